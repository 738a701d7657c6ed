#include "metrics/registry.hpp"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>
#include <thread>

namespace gyre::metrics {

namespace {

std::atomic<unsigned> window_generation{0};
std::atomic<std::int64_t> window_started_ms{0};
constexpr std::int64_t window_ms = 5 * 60 * 1000;

std::int64_t steady_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

std::string escape_help(std::string_view v) {
    std::string out;
    for (char c : v) {
        if (c == '\\') {
            out += "\\\\";
        } else if (c == '\n') {
            out += "\\n";
        } else {
            out += c;
        }
    }
    return out;
}

std::string join_labels(std::string_view base, std::string_view extra) {
    if (base.empty()) {
        return std::string(extra);
    }
    if (extra.empty()) {
        return std::string(base);
    }
    return std::string(base) + "," + std::string(extra);
}

void append_sample(std::string& out, std::string_view name, std::string_view labels, double v) {
    out.append(name);
    if (!labels.empty()) {
        out.push_back('{');
        out.append(labels);
        out.push_back('}');
    }
    out.push_back(' ');
    append_value(out, v);
    out.push_back('\n');
}

std::string bound_text(double b) {
    std::string s;
    append_value(s, b);
    return s;
}

} // namespace

namespace detail {
thread_local constinit std::size_t current_slot = 0;
} // namespace detail

std::size_t slot_count() noexcept {
    static const std::size_t n = std::max(1U, std::thread::hardware_concurrency()) + 1;
    return n;
}

void bind_thread_to_shard(std::size_t index) noexcept {
    detail::current_slot = 1 + index % (slot_count() - 1);
}

// ---- children ------------------------------------------------------------------------------

counter::counter()
    : cells_(std::make_unique<detail::padded_counter[]>(slot_count())) {}

std::uint64_t counter::value() const noexcept {
    std::uint64_t sum = 0;
    for (std::size_t i = 0, n = slot_count(); i < n; ++i) {
        sum += cells_[i].value.load(std::memory_order_relaxed);
    }
    return sum;
}

gauge::gauge()
    : cells_(std::make_unique<detail::padded_gauge[]>(slot_count())) {}

std::int64_t gauge::value() const noexcept {
    std::int64_t sum = 0;
    for (std::size_t i = 0, n = slot_count(); i < n; ++i) {
        sum += cells_[i].value.load(std::memory_order_relaxed);
    }
    return sum;
}

histogram::histogram(std::span<const double> bounds)
    : bounds_(bounds)
    , slots_(std::make_unique<slot[]>(slot_count())) {
    for (std::size_t i = 0, n = slot_count(); i < n; ++i) {
        slots_[i].buckets = std::make_unique<std::atomic<std::uint64_t>[]>(bounds.size() + 1);
        slots_[i].recent[0] = std::make_unique<std::atomic<std::uint64_t>[]>(bounds.size() + 1);
        slots_[i].recent[1] = std::make_unique<std::atomic<std::uint64_t>[]>(bounds.size() + 1);
    }
}

void histogram::observe(double v) noexcept {
    std::size_t bucket = 0;
    while (bucket < bounds_.size() && v > bounds_[bucket]) {
        ++bucket;
    }
    auto& s = slots_[thread_slot()];
    s.buckets[bucket].fetch_add(1, std::memory_order_relaxed);
    s.recent[window_generation.load(std::memory_order_relaxed) & 1U][bucket].fetch_add(
        1, std::memory_order_relaxed);
    s.count.fetch_add(1, std::memory_order_relaxed);
    s.sum.fetch_add(v, std::memory_order_relaxed);
}

histogram::snapshot histogram::read() const {
    snapshot out;
    const std::size_t buckets = bounds_.size() + 1;
    std::vector<std::uint64_t> per_bucket(buckets, 0);
    out.recent.assign(buckets, 0);
    for (std::size_t i = 0, n = slot_count(); i < n; ++i) {
        const auto& s = slots_[i];
        for (std::size_t b = 0; b < buckets; ++b) {
            per_bucket[b] += s.buckets[b].load(std::memory_order_relaxed);
            out.recent[b] += s.recent[0][b].load(std::memory_order_relaxed) +
                             s.recent[1][b].load(std::memory_order_relaxed);
        }
        out.sum += s.sum.load(std::memory_order_relaxed);
        out.count += s.count.load(std::memory_order_relaxed);
    }
    std::uint64_t running = 0;
    out.cumulative.reserve(buckets);
    for (auto c : per_bucket) {
        running += c;
        out.cumulative.push_back(running);
    }
    // Buckets and count are read at slightly different moments; keep +Inf equal to count.
    out.count = std::max(out.count, running);
    out.cumulative.back() = out.count;
    return out;
}

void rotate_windows_if_due() {
    const auto now = steady_ms();
    auto started = window_started_ms.load();
    if (started == 0) {
        window_started_ms.compare_exchange_strong(started, now);
        return;
    }
    if (now - started < window_ms || !window_started_ms.compare_exchange_strong(started, now)) {
        return;
    }
    // The generation about to start is the older one: it is cleared by its next user, the
    // registry, below. Observations racing with the switch land in either window; both count.
    const unsigned next = window_generation.load() + 1;
    registry::global().clear_window(next & 1U);
    window_generation.store(next);
}

// ---- families ------------------------------------------------------------------------------

family_base::family_base(std::string name, std::string help, std::vector<std::string> labels)
    : name_(std::move(name))
    , help_(std::move(help))
    , labels_(std::move(labels)) {
    registry::global().add(this);
}

family_base::~family_base() {
    registry::global().remove(this);
}

std::string family_base::label_text(std::span<const std::string> values) const {
    std::string out;
    for (std::size_t i = 0; i < labels_.size() && i < values.size(); ++i) {
        if (i > 0) {
            out.push_back(',');
        }
        out += labels_[i];
        out += "=\"";
        out += escape_label_value(values[i]);
        out += '"';
    }
    return out;
}

void family_base::render_header(std::string& out,
                                std::string_view name,
                                std::string_view type) const {
    out.append("# HELP ").append(name).append(" ").append(escape_help(help_)).append("\n");
    out.append("# TYPE ").append(name).append(" ").append(type).append("\n");
}

counter_family::counter_family(std::string name, std::string help, std::vector<std::string> labels)
    : family(std::move(name), std::move(help), std::move(labels)) {}

void counter_family::render(std::string& out) const {
    render_header(out, name_, "counter");
    const std::lock_guard lock(mutex_);
    for (const auto& [values, child] : children_) {
        append_sample(out, name_, label_text(values), static_cast<double>(child->value()));
    }
}

gauge_family::gauge_family(std::string name, std::string help, std::vector<std::string> labels)
    : family(std::move(name), std::move(help), std::move(labels)) {}

void gauge_family::render(std::string& out) const {
    render_header(out, name_, "gauge");
    const std::lock_guard lock(mutex_);
    for (const auto& [values, child] : children_) {
        append_sample(out, name_, label_text(values), static_cast<double>(child->value()));
    }
}

histogram_family::histogram_family(std::string name,
                                   std::string help,
                                   std::vector<std::string> labels,
                                   std::span<const double> bounds,
                                   bool with_summary,
                                   std::string histogram_help)
    : family(std::move(name), std::move(help), std::move(labels))
    , bounds_(bounds)
    , with_summary_(with_summary)
    , histogram_help_(std::move(histogram_help)) {}

void histogram_family::render(std::string& out) const {
    const std::lock_guard lock(mutex_);
    std::vector<std::pair<std::string, histogram::snapshot>> snaps;
    snaps.reserve(children_.size());
    for (const auto& [values, child] : children_) {
        snaps.emplace_back(label_text(values), child->read());
    }
    if (with_summary_) {
        render_header(out, name_, "summary");
        for (const auto& [labels, s] : snaps) {
            for (const char* q : {"0.5", "0.99", "0.999"}) {
                append_sample(out,
                              name_,
                              join_labels(labels, std::string("quantile=\"") + q + "\""),
                              estimate_quantile(bounds_, s.recent, std::stod(q)));
            }
            append_sample(out, name_ + "_sum", labels, s.sum);
            append_sample(out, name_ + "_count", labels, static_cast<double>(s.count));
        }
    }
    const std::string hname = with_summary_ ? name_ + "_histogram" : name_;
    out.append("# HELP ").append(hname).append(" ");
    out.append(escape_help(with_summary_ && !histogram_help_.empty() ? histogram_help_ : help_));
    out.append("\n# TYPE ").append(hname).append(" histogram\n");
    for (const auto& [labels, s] : snaps) {
        for (std::size_t b = 0; b <= bounds_.size(); ++b) {
            const std::string le =
                b < bounds_.size() ? "le=\"" + bound_text(bounds_[b]) + "\"" : "le=\"+Inf\"";
            append_sample(out,
                          hname + "_bucket",
                          join_labels(labels, le),
                          static_cast<double>(s.cumulative[b]));
        }
        append_sample(out, hname + "_sum", labels, s.sum);
        append_sample(out, hname + "_count", labels, static_cast<double>(s.count));
    }
}

void histogram_family::clear_window(unsigned generation) {
    const std::lock_guard lock(mutex_);
    for (auto& [values, child] : children_) {
        child->clear_window(generation);
    }
}

void histogram::clear_window(unsigned generation) noexcept {
    for (std::size_t i = 0, n = slot_count(); i < n; ++i) {
        for (std::size_t b = 0; b <= bounds_.size(); ++b) {
            slots_[i].recent[generation][b].store(0, std::memory_order_relaxed);
        }
    }
}

// ---- registry ------------------------------------------------------------------------------

registry& registry::global() {
    static registry r;
    return r;
}

void registry::add(family_base* f) {
    const std::lock_guard lock(mutex_);
    families_.push_back(f);
}

void registry::remove(family_base* f) {
    const std::lock_guard lock(mutex_);
    std::erase(families_, f);
}

void registry::clear_window(unsigned generation) {
    const std::lock_guard lock(mutex_);
    for (auto* f : families_) {
        if (auto* h = dynamic_cast<histogram_family*>(f)) {
            h->clear_window(generation);
        }
    }
}

std::string registry::render(const std::vector<sampled_family>& extra) const {
    std::vector<std::pair<std::string, std::string>> parts;
    {
        const std::lock_guard lock(mutex_);
        for (const auto* f : families_) {
            std::string text;
            f->render(text);
            parts.emplace_back(f->name(), std::move(text));
        }
    }
    for (const auto& f : extra) {
        std::string text;
        text.append("# HELP ").append(f.name).append(" ").append(escape_help(f.help)).append("\n");
        text.append("# TYPE ").append(f.name).append(" ").append(f.type).append("\n");
        for (const auto& s : f.samples) {
            std::string labels;
            for (const auto& [k, v] : s.labels) {
                labels = join_labels(labels, k + "=\"" + escape_label_value(v) + "\"");
            }
            append_sample(text, f.name, labels, s.value);
        }
        parts.emplace_back(f.name, std::move(text));
    }
    std::stable_sort(
        parts.begin(), parts.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    std::string out;
    for (const auto& p : parts) {
        out += p.second;
    }
    return out;
}

// ---- formatting ----------------------------------------------------------------------------

double estimate_quantile(std::span<const double> bounds,
                         std::span<const std::uint64_t> per_bucket,
                         double q) {
    std::uint64_t total = 0;
    for (auto c : per_bucket) {
        total += c;
    }
    if (total == 0) {
        return std::numeric_limits<double>::quiet_NaN(); // as a summary with no observations
    }
    const double rank = q * static_cast<double>(total);
    double seen = 0;
    for (std::size_t b = 0; b < per_bucket.size(); ++b) {
        const double in_bucket = static_cast<double>(per_bucket[b]);
        if (in_bucket > 0 && seen + in_bucket >= rank) {
            if (b == bounds.size()) {
                return bounds.empty() ? 0 : bounds.back(); // beyond the last bound
            }
            const double lower = b == 0 ? 0 : bounds[b - 1];
            return lower + (bounds[b] - lower) * ((rank - seen) / in_bucket);
        }
        seen += in_bucket;
    }
    return bounds.empty() ? 0 : bounds.back();
}

void append_value(std::string& out, double v) {
    if (std::isnan(v)) {
        out += "NaN";
        return;
    }
    if (std::isinf(v)) {
        out += v > 0 ? "+Inf" : "-Inf";
        return;
    }
    // The shortest text that reads back as the same double (a unix time keeps its tenths).
    char buf[64];
    const auto r = std::to_chars(buf, buf + sizeof buf, v);
    out.append(buf, r.ptr);
}

std::string escape_label_value(std::string_view v) {
    std::string out;
    out.reserve(v.size());
    for (char c : v) {
        if (c == '\\') {
            out += "\\\\";
        } else if (c == '"') {
            out += "\\\"";
        } else if (c == '\n') {
            out += "\\n";
        } else {
            out += c;
        }
    }
    return out;
}

} // namespace gyre::metrics
