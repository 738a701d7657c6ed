#include "hub/prepared_push.hpp"

#include "metrics/catalog.hpp"
#include "protocol/client/json_codec.hpp"
#include "protocol/client/protobuf_codec.hpp"

namespace gyre::hub {

const shared_bytes& prepared_push::frame(wire w) const {
    const auto i = static_cast<std::size_t>(w);
    if (ready_[i].load(std::memory_order_acquire)) {
        metrics::count_frame_reused();
        return frames_[i];
    }
    const std::lock_guard lock(encode_mutex_);
    if (ready_[i].load(std::memory_order_relaxed)) {
        metrics::count_frame_reused(); // another shard encoded it meanwhile
    } else {
        namespace pc = protocol::client;
        std::string out;
        if (is_json(w)) {
            // Data that is not JSON (from a Protobuf publisher) cannot be framed as JSON: the
            // frame stays empty and encode_failed() tells JSON subscribers to disconnect.
            const auto form =
                w == wire::json ? pc::push_form::bidirectional : pc::push_form::unidirectional;
            if (!pc::json::append_push(out, push_, form)) {
                out.clear();
                failed_[i] = true;
            }
        } else {
            pc::protobuf::append_push(
                out, push_, pc::push_form::bidirectional, pc::protobuf::framing::delimited);
        }
        frames_[i] = shared_bytes(std::move(out));
        metrics::count_frame_encoded();
        ready_[i].store(true, std::memory_order_release);
    }
    return frames_[i];
}

} // namespace gyre::hub
