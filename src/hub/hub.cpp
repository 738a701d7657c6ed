#include "hub/hub.hpp"

#include "core/log.hpp"
#include "metrics/catalog.hpp"

#include <algorithm>

namespace gyre::hub {

namespace {

// Fewer local subscribers gain nothing from gathering: the join would only copy.
constexpr std::size_t min_batch_subscribers = 2;

} // namespace

const shared_bytes& push_batch::frames(wire w) const {
    const auto i = static_cast<std::size_t>(w);
    if (pushes_.size() == 1) {
        return pushes_.front()->frame(w);
    }
    if (built_[i]) {
        metrics::count_frame_reused();
    } else {
        built_[i] = true;
        std::size_t size = 0;
        for (const auto& p : pushes_) {
            size += p->frame(w).size() + 1;
        }
        std::string joined;
        joined.reserve(size);
        for (const auto& p : pushes_) {
            const auto& f = p->frame(w);
            if (f.empty()) {
                failed_[i] = failed_[i] || p->encode_failed(w);
                continue;
            }
            if (is_json(w) && !joined.empty()) {
                joined.push_back('\n');
            }
            joined.append(f.data(), f.size());
        }
        joined_[i] = shared_bytes(std::move(joined));
    }
    return joined_[i];
}

hub::hub(std::function<void()> schedule_flush)
    : schedule_flush_(std::move(schedule_flush)) {}

bool hub::add(const std::string& channel, subscriber* s) {
    auto& subs = channels_[channel].subscribers;
    subs.push_back(s);
    ++subscriptions_;
    return subs.size() == 1;
}

bool hub::remove(const std::string& channel, subscriber* s) {
    const auto it = channels_.find(channel);
    if (it == channels_.end()) {
        return false;
    }
    auto& subs = it->second.subscribers;
    const auto pos = std::find(subs.begin(), subs.end(), s);
    if (pos != subs.end()) {
        *pos = subs.back(); // order among subscribers does not matter
        subs.pop_back();
        --subscriptions_;
    }
    if (subs.empty()) {
        if (it->second.batch != no_batch) {
            batches_[it->second.batch].second.pushes_.clear(); // nobody left to take it
        }
        channels_.erase(it);
        return true;
    }
    return false;
}

void hub::broadcast(const prepared_push_ptr& p) {
    const auto it = channels_.find(p->channel());
    if (it == channels_.end()) {
        return;
    }
    auto& entry = it->second;
    check_order(entry, *p);
    if (p->kind() == protocol::client::push_kind::pub && schedule_flush_ &&
        entry.subscribers.size() >= min_batch_subscribers) {
        if (entry.batch == no_batch) {
            entry.batch = batches_.size();
            batches_.emplace_back(it->first, push_batch{});
            if (entry.batch == 0) {
                schedule_flush_();
            }
        }
        batches_[entry.batch].second.pushes_.push_back(p);
        return;
    }
    if (entry.batch != no_batch) {
        deliver(entry, batches_[entry.batch].second); // keep the channel's order
    }
    // subscriber::deliver never adds or removes synchronously (see subscriber.hpp).
    for (subscriber* s : entry.subscribers) {
        s->deliver(p);
    }
}

void hub::check_order(channel_entry& entry, const prepared_push& p) {
    const auto s = p.sequence();
    if (s == 0) {
        return; // not from a home shard (unit tests, local control pushes)
    }
    if (s <= entry.last_sequence) {
        metrics::count_order_violation();
        GYRE_LOG_ERROR("channel order violated channel={} sequence={} after={}",
                       p.channel(),
                       s,
                       entry.last_sequence);
        return;
    }
    entry.last_sequence = s;
}

void hub::deliver(channel_entry& entry, push_batch& batch) {
    entry.batch = no_batch;
    if (batch.pushes_.empty()) {
        return;
    }
    for (subscriber* s : entry.subscribers) {
        s->deliver_batch(batch);
    }
    batch.pushes_.clear();
}

void hub::flush_batches() {
    flushing_.swap(batches_);
    for (auto& [channel, batch] : flushing_) {
        if (batch.pushes_.empty()) {
            continue; // delivered early, or the channel emptied
        }
        const auto it = channels_.find(channel);
        if (it != channels_.end()) {
            deliver(it->second, batch);
        }
    }
    flushing_.clear();
}

std::size_t hub::subscribers(const std::string& channel) const noexcept {
    const auto it = channels_.find(channel);
    return it == channels_.end() ? 0 : it->second.subscribers.size();
}

} // namespace gyre::hub
