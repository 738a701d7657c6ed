#include "node/history.hpp"

#include <random>

namespace gyre::node {

namespace {

std::uint64_t offset_of(const hub::prepared_push_ptr& p) {
    return std::get<protocol::client::publication>(p->push().body).offset;
}

} // namespace

std::string new_epoch() {
    static constexpr std::string_view letters =
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    thread_local std::mt19937_64 gen{std::random_device{}()};
    std::string out(8, 'a');
    for (auto& c : out) {
        c = letters[gen() % letters.size()];
    }
    return out;
}

history_stream::history_stream()
    : epoch_(new_epoch()) {}

void history_stream::append(hub::prepared_push_ptr p, std::size_t size) {
    ++top_;
    items_.push_back(std::move(p));
    while (items_.size() > size) {
        items_.pop_front();
    }
}

bool history_stream::stale_version(std::uint64_t version,
                                   const std::string& version_epoch) const noexcept {
    return version > 0 && (version_epoch.empty() || version_epoch == version_epoch_) &&
           version <= version_;
}

void history_stream::set_version(std::uint64_t version, std::string version_epoch) {
    version_ = version;
    version_epoch_ = std::move(version_epoch);
}

history_result history_stream::read(const history_filter& f) const {
    history_result out;
    out.top = {top_, epoch_};
    if (f.since) {
        if (f.reverse && f.since->offset == 0) {
            out.bad_request = true;
            return out;
        }
        if (!f.since->epoch.empty() && f.since->epoch != epoch_) {
            out.unrecoverable = true; // the caller still gets the position
        }
        if (!f.reverse && f.since->offset == top_ && f.since->epoch == epoch_) {
            return out; // already at the top
        }
    }
    if (f.limit == 0 || items_.empty()) {
        return out;
    }
    const std::uint64_t first = offset_of(items_.front());
    const std::size_t max = f.limit < 0 ? items_.size() : static_cast<std::size_t>(f.limit);
    if (!f.reverse) {
        // Start just after `since` (or at the oldest kept publication when it is gone).
        std::size_t i = 0;
        if (f.since) {
            const std::uint64_t from = f.since->offset + 1;
            if (from > top_) {
                return out;
            }
            i = from > first ? static_cast<std::size_t>(from - first) : 0;
        }
        for (; i < items_.size() && out.publications.size() < max; ++i) {
            out.publications.push_back(items_[i]);
        }
        return out;
    }
    // Reversed: from just before `since` (or the newest) towards the oldest.
    std::size_t end = items_.size(); // one past the first index to return
    if (f.since) {
        const std::uint64_t from = f.since->offset - 1;
        if (from >= top_ + 1 || from < first) {
            // Centrifuge: an offset past the top reads nothing; one no longer kept too.
            return out;
        }
        end = static_cast<std::size_t>(from - first) + 1;
    }
    for (std::size_t i = end; i > 0 && out.publications.size() < max; --i) {
        out.publications.push_back(items_[i - 1]);
    }
    return out;
}

history_stream&
history_store::touch(const std::string& channel, clock::time_point now, clock::duration meta_ttl) {
    auto it = streams_.find(channel);
    if (it != streams_.end() && it->second.meta_expire <= now) {
        streams_.erase(it); // the position is lost: a new epoch follows
        it = streams_.end();
    }
    if (it == streams_.end()) {
        it = streams_.try_emplace(channel).first;
    }
    auto& s = it->second;
    if (s.items_expire <= now) {
        s.clear();
    }
    // No meta lifetime configured: the position lives as long as the node.
    s.meta_expire = meta_ttl.count() > 0 ? now + meta_ttl : clock::time_point::max();
    return s;
}

history_stream* history_store::find(const std::string& channel, clock::time_point now) {
    const auto it = streams_.find(channel);
    if (it == streams_.end() || it->second.meta_expire <= now) {
        return nullptr;
    }
    if (it->second.items_expire <= now) {
        it->second.clear();
    }
    return &it->second;
}

void history_store::sweep(clock::time_point now) {
    for (auto it = streams_.begin(); it != streams_.end();) {
        if (it->second.meta_expire <= now) {
            it = streams_.erase(it);
            continue;
        }
        if (it->second.items_expire <= now) {
            it->second.clear();
        }
        ++it;
    }
}

} // namespace gyre::node
