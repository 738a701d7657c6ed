// File: metrics/registry.hpp
// Prometheus metrics without a lock on the hot path. Every metric child keeps one cache line
// per thread slot (one slot per shard, plus one shared by all other threads); a thread adds to
// its own slot with a relaxed atomic, and only a scrape reads every slot and sums them.
// Label values are resolved to a child once (under the family's mutex): hot paths keep the
// child, rare events (a disconnect code, an API error) look it up each time.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace gyre::metrics {

/// Binds the calling thread to shard `index`'s slot (shard threads call this once at start).
void bind_thread_to_shard(std::size_t index) noexcept;

/// Number of slots every child keeps: slot 0 for threads not bound to a shard, then one per
/// core (more shards than cores share slots, which stays correct: every cell is atomic).
std::size_t slot_count() noexcept;

namespace detail {
extern thread_local constinit std::size_t current_slot;
} // namespace detail

/// The calling thread's slot.
inline std::size_t thread_slot() noexcept {
    return detail::current_slot;
}

namespace detail {
struct alignas(64) padded_counter {
    std::atomic<std::uint64_t> value{0};
};

struct alignas(64) padded_gauge {
    std::atomic<std::int64_t> value{0};
};
} // namespace detail

/// A monotonically increasing count.
class counter {
public:
    counter();

    void inc(std::uint64_t n = 1) noexcept {
        cells_[thread_slot()].value.fetch_add(n, std::memory_order_relaxed);
    }

    std::uint64_t value() const noexcept;

private:
    std::unique_ptr<detail::padded_counter[]> cells_;
};

/// A value that goes up and down (connections in flight).
class gauge {
public:
    gauge();

    void add(std::int64_t n) noexcept {
        cells_[thread_slot()].value.fetch_add(n, std::memory_order_relaxed);
    }

    void inc() noexcept { add(1); }

    void dec() noexcept { add(-1); }

    std::int64_t value() const noexcept;

private:
    std::unique_ptr<detail::padded_gauge[]> cells_;
};

/// Observations in fixed buckets. Also keeps the same buckets for a recent window (the last
/// 5 to 10 minutes), from which a summary's quantiles are estimated at scrape time.
class histogram {
public:
    explicit histogram(std::span<const double> bounds);
    void observe(double v) noexcept;

    struct snapshot {
        std::vector<std::uint64_t> cumulative; ///< per bound, then +Inf
        double sum = 0;
        std::uint64_t count = 0;
        std::vector<std::uint64_t> recent; ///< per bucket (not cumulative), the window
    };

    snapshot read() const;
    /// Zeroes one generation of the recent window (before it is reused).
    void clear_window(unsigned generation) noexcept;

private:
    struct alignas(64) slot {
        std::atomic<double> sum{0};
        std::atomic<std::uint64_t> count{0};
        std::unique_ptr<std::atomic<std::uint64_t>[]> buckets;   ///< bounds + 1
        std::unique_ptr<std::atomic<std::uint64_t>[]> recent[2]; ///< two window generations
    };

    std::span<const double> bounds_;
    std::unique_ptr<slot[]> slots_;
};

/// Starts a new recent window when the current one is older than five minutes; the scrape
/// calls it so quantiles cover the last 5-10 minutes.
void rotate_windows_if_due();

/// A named metric with label names; children per label-value tuple.
class family_base {
public:
    family_base(std::string name, std::string help, std::vector<std::string> labels);
    virtual ~family_base();
    family_base(const family_base&) = delete;
    family_base& operator=(const family_base&) = delete;

    const std::string& name() const noexcept { return name_; }

    /// Appends this family in the Prometheus text format.
    virtual void render(std::string& out) const = 0;

protected:
    /// `labels="v",...` for a child, escaped.
    std::string label_text(std::span<const std::string> values) const;
    void render_header(std::string& out, std::string_view name, std::string_view type) const;

    std::string name_;
    std::string help_;
    std::vector<std::string> labels_;
    mutable std::mutex mutex_;
};

template <typename Child>
class family : public family_base {
public:
    using family_base::family_base;

    /// The child for these label values (created on first use; the reference stays valid).
    Child& with(std::initializer_list<std::string_view> values) {
        std::vector<std::string> key(values.begin(), values.end());
        const std::lock_guard lock(mutex_);
        auto it = children_.find(key);
        if (it == children_.end()) {
            it = children_.emplace(std::move(key), make_child()).first;
        }
        return *it->second;
    }

    /// Visits every child (under the family's mutex; for reports, not hot paths).
    template <typename Fn>
    void for_each(Fn&& fn) const {
        const std::lock_guard lock(mutex_);
        for (const auto& [values, child] : children_) {
            fn(values, *child);
        }
    }

protected:
    virtual std::unique_ptr<Child> make_child() const = 0;
    std::map<std::vector<std::string>, std::unique_ptr<Child>> children_;
};

/// Children of a family cached by a small index (an enum value), resolved under the family's
/// mutex on first use only: hot paths with a handful of label sets use this. Any thread.
template <typename Child, std::size_t N>
class child_cache {
public:
    Child&
    get(family<Child>& f, std::size_t index, std::initializer_list<std::string_view> labels) {
        auto* c = cells_[index].load(std::memory_order_acquire);
        if (c == nullptr) {
            c = &f.with(labels); // the same child for everyone who races here
            cells_[index].store(c, std::memory_order_release);
        }
        return *c;
    }

private:
    std::array<std::atomic<Child*>, N> cells_{};
};

class counter_family final : public family<counter> {
public:
    counter_family(std::string name, std::string help, std::vector<std::string> labels);
    void render(std::string& out) const override;

private:
    std::unique_ptr<counter> make_child() const override { return std::make_unique<counter>(); }
};

class gauge_family final : public family<gauge> {
public:
    gauge_family(std::string name, std::string help, std::vector<std::string> labels);
    void render(std::string& out) const override;

private:
    std::unique_ptr<gauge> make_child() const override { return std::make_unique<gauge>(); }
};

/// A histogram; with `with_summary`, also Centrifugo's deprecated summary of the same
/// observations under the bare name (quantiles 0.5, 0.99, 0.999 estimated from the recent
/// window) and the histogram under `<name>_histogram`, as Centrifugo exports its timings.
class histogram_family final : public family<histogram> {
public:
    histogram_family(std::string name,
                     std::string help,
                     std::vector<std::string> labels,
                     std::span<const double> bounds,
                     bool with_summary = false,
                     std::string histogram_help = {});
    void render(std::string& out) const override;
    void clear_window(unsigned generation);

private:
    std::unique_ptr<histogram> make_child() const override {
        return std::make_unique<histogram>(bounds_);
    }

    std::span<const double> bounds_;
    bool with_summary_;
    std::string histogram_help_;
};

/// Values read at scrape time (node counts, process figures, per-shard lag).
struct sample {
    std::vector<std::pair<std::string, std::string>> labels;
    double value = 0;
};

struct sampled_family {
    std::string name;
    std::string help;
    std::string type = "gauge";
    std::vector<sample> samples;
};

/// Every family, in registration order. Families register themselves when constructed.
class registry {
public:
    static registry& global();
    void add(family_base* f);
    void remove(family_base* f);
    /// The whole exposition: registered families, then `extra`, sorted by name.
    std::string render(const std::vector<sampled_family>& extra) const;
    /// Zeroes one generation of every histogram's recent window.
    void clear_window(unsigned generation);

private:
    mutable std::mutex mutex_;
    std::vector<family_base*> families_;
};

/// Estimates quantile `q` from per-bucket counts by linear interpolation inside the bucket.
double estimate_quantile(std::span<const double> bounds,
                         std::span<const std::uint64_t> per_bucket,
                         double q);

/// Formats a sample value as Prometheus does (integers without a fraction, +Inf, NaN).
void append_value(std::string& out, double v);

/// Escapes a label value (backslash, quote, newline).
std::string escape_label_value(std::string_view v);

} // namespace gyre::metrics
