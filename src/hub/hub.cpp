#include "hub/hub.hpp"

#include <algorithm>

namespace gyre::hub {

bool hub::add(const std::string& channel, subscriber* s) {
    auto& subs = channels_[channel];
    subs.push_back(s);
    ++subscriptions_;
    return subs.size() == 1;
}

bool hub::remove(const std::string& channel, subscriber* s) {
    const auto it = channels_.find(channel);
    if (it == channels_.end()) {
        return false;
    }
    auto& subs = it->second;
    const auto pos = std::find(subs.begin(), subs.end(), s);
    if (pos != subs.end()) {
        *pos = subs.back(); // order among subscribers does not matter
        subs.pop_back();
        --subscriptions_;
    }
    if (subs.empty()) {
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
    // subscriber::deliver never adds or removes synchronously (see subscriber.hpp).
    for (subscriber* s : it->second) {
        s->deliver(p);
    }
}

std::size_t hub::subscribers(const std::string& channel) const noexcept {
    const auto it = channels_.find(channel);
    return it == channels_.end() ? 0 : it->second.size();
}

} // namespace gyre::hub
