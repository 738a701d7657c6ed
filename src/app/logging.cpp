#include "app/logging.hpp"

#include "core/log.hpp"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <memory>

namespace gyre::app {
namespace {

std::shared_ptr<spdlog::logger>& backend() {
    static std::shared_ptr<spdlog::logger> logger;
    return logger;
}

void spdlog_sink(log::level lvl, std::string_view line) {
    auto& logger = backend();
    if (!logger) {
        return;
    }
    spdlog::level::level_enum l = spdlog::level::info;
    switch (lvl) {
    case log::level::trace:
        l = spdlog::level::trace;
        break;
    case log::level::debug:
        l = spdlog::level::debug;
        break;
    case log::level::info:
        l = spdlog::level::info;
        break;
    case log::level::warn:
        l = spdlog::level::warn;
        break;
    case log::level::error:
    case log::level::none:
        l = spdlog::level::err;
        break;
    }
    logger->log(l, "{}", line);
}

} // namespace

void setup_logging(const std::string& level, const std::string& file) {
    log::level lvl = log::level::info;
    (void)log::parse_level(level, lvl);
    std::shared_ptr<spdlog::logger> logger;
    if (file.empty()) {
        logger = spdlog::stderr_logger_mt("gyre");
    } else {
        try {
            logger = spdlog::basic_logger_mt("gyre", file);
        } catch (const spdlog::spdlog_ex& e) {
            throw std::runtime_error("cannot open log.file " + file + ": " + e.what());
        }
    }
    logger->set_formatter(std::make_unique<spdlog::pattern_formatter>(
        "%Y-%m-%dT%H:%M:%S.%eZ level=%l %v", spdlog::pattern_time_type::utc));
    logger->set_level(spdlog::level::trace); // filtering happens in the facade
    logger->flush_on(spdlog::level::trace);
    backend() = logger;
    log::set_level(lvl);
    log::set_sink(&spdlog_sink);
}

} // namespace gyre::app
