#include "app/cli.hpp"

int main(int argc, char** argv) {
    return gyre::app::run_cli(argc, argv);
}
