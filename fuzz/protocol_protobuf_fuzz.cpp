// libFuzzer entry point for the Protobuf client-protocol decoders. Build with
// -fsanitize=fuzzer,address,undefined and link gyre_protocol. Besides "never crash", it checks
// that whatever decodes re-encodes into a frame that decodes to the same commands.
#include "protocol/client/protobuf_codec.hpp"

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
    namespace pb = gyre::protocol::client::protobuf;
    const std::string_view bytes(reinterpret_cast<const char*>(data), size);

    auto commands = pb::decode_commands(bytes);
    static_cast<void>(pb::decode_command(bytes));
    static_cast<void>(pb::decode_connect_request(bytes));
    static_cast<void>(pb::decode_emulation_request(bytes));
    static_cast<void>(pb::decode_replies(bytes));
    static_cast<void>(pb::decode_push(bytes));
    static_cast<void>(pb::next_delimited(bytes));

    if (commands && round_trips(*commands)) {
        std::string frame;
        for (const auto& c : *commands) {
            pb::append_command(frame, c, pb::framing::delimited);
        }
        auto again = pb::decode_commands(frame, frame.size() + 1);
        if (!again || *again != *commands) {
            std::abort();
        }
    }
    return 0;
}
