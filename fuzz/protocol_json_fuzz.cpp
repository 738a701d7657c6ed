// libFuzzer entry point for the JSON client-protocol decoders. Build with
// -fsanitize=fuzzer,address,undefined and link gyre_protocol. Besides "never crash", it checks
// that whatever decodes re-encodes into a frame that decodes again.
#include "protocol/client/json_codec.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

namespace {

// A command with id 0 that is neither a send nor a pong can only come from a frame that also
// carried a send (Centrifuge's dispatch order picks another request); re-encoding keeps only
// the picked request, which then reads back as a pong. Such frames are skipped by the check.
bool round_trips(const std::vector<gyre::protocol::client::command>& commands) {
    for (const auto& c : commands) {
        if (c.id == 0 && !c.is_pong() && c.kind() != gyre::protocol::client::method::send) {
            return false;
        }
    }
    return true;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    namespace json = gyre::protocol::client::json;
    const std::string_view text(reinterpret_cast<const char*>(data), size);

    auto commands = json::decode_commands(text);
    static_cast<void>(json::decode_connect_request(text));
    static_cast<void>(json::decode_emulation_request(text));
    static_cast<void>(json::decode_replies(text));
    static_cast<void>(json::decode_push(text));
    static_cast<void>(json::is_valid_json(text));

    if (commands && !commands->empty() && round_trips(*commands)) {
        std::string frame;
        for (const auto& c : *commands) {
            if (!frame.empty()) {
                frame.push_back('\n');
            }
            if (!json::append_command(frame, c)) {
                return 0; // a payload that is not JSON cannot come from this decoder
            }
        }
        auto again = json::decode_commands(frame);
        if (!again || *again != *commands) {
            std::abort();
        }
    }
    return 0;
}
