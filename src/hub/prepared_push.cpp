#include "hub/prepared_push.hpp"

#include "protocol/client/json_codec.hpp"
#include "protocol/client/protobuf_codec.hpp"

namespace gyre::hub {

const shared_bytes& prepared_push::frame(wire w) const {
    const auto i = static_cast<std::size_t>(w);
    std::call_once(once_[i], [&] {
        std::string out;
        protocol::client::reply r;
        r.body = push_;
        if (w == wire::json) {
            (void)protocol::client::json::append_reply(out, r);
        } else {
            protocol::client::protobuf::append_reply(
                out, r, protocol::client::protobuf::framing::delimited);
        }
        frames_[i] = shared_bytes(std::move(out));
    });
    return frames_[i];
}

} // namespace gyre::hub
