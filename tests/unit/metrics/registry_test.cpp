// Metric children, families and the Prometheus text exposition.
//
// Families register themselves in the global registry and are never unregistered, so every
// family here is a function-local static (it must outlive any later global render) with a name
// no other test or the catalog uses.
#include "metrics/catalog.hpp"
#include "metrics/registry.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace gyre::metrics {
namespace {

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        out.push_back(line);
    }
    return out;
}

std::string render_one(const family_base& f) {
    std::string out;
    f.render(out);
    return out;
}

/// A tiny validator of the text exposition format: every sample line is well formed, every
/// sample belongs to a metric whose # HELP and # TYPE came before it, no metric is declared
/// twice. Returns the problems found (empty when the text is valid).
std::vector<std::string> exposition_problems(const std::string& text) {
    static const std::regex sample_re(
        R"re(^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*")(,[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*")*\})? ([-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?|[-+]Inf|NaN)$)re");
    static const std::regex help_re(R"(^# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) .*$)");
    static const std::regex type_re(
        R"(^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$)");
    std::vector<std::string> problems;
    std::set<std::string> helped;
    std::map<std::string, std::string> typed;
    if (!text.empty() && text.back() != '\n') {
        problems.push_back("text does not end with a newline");
    }
    for (const auto& line : lines_of(text)) {
        std::smatch m;
        if (line.starts_with("# HELP ")) {
            if (!std::regex_match(line, m, help_re)) {
                problems.push_back("bad HELP: " + line);
            } else if (!helped.insert(m[1].str()).second) {
                problems.push_back("HELP twice: " + line);
            }
            continue;
        }
        if (line.starts_with("# TYPE ")) {
            if (!std::regex_match(line, m, type_re)) {
                problems.push_back("bad TYPE: " + line);
            } else if (!helped.contains(m[1].str())) {
                problems.push_back("TYPE before HELP: " + line);
            } else if (!typed.emplace(m[1].str(), m[2].str()).second) {
                problems.push_back("TYPE twice: " + line);
            }
            continue;
        }
        if (!std::regex_match(line, m, sample_re)) {
            problems.push_back("bad sample: " + line);
            continue;
        }
        const std::string name = m[1].str();
        auto declared = [&](const std::string& base, std::initializer_list<const char*> types) {
            auto it = typed.find(base);
            return it != typed.end() &&
                   std::find(types.begin(), types.end(), it->second) != types.end();
        };
        bool ok = declared(name, {"counter", "gauge", "untyped", "summary", "histogram"});
        for (const char* suffix : {"_sum", "_count"}) {
            if (!ok && name.ends_with(suffix)) {
                ok = declared(name.substr(0, name.size() - std::string_view(suffix).size()),
                              {"summary", "histogram"});
            }
        }
        if (!ok && name.ends_with("_bucket")) {
            ok = declared(name.substr(0, name.size() - 7), {"histogram"});
        }
        if (!ok) {
            problems.push_back("sample without HELP/TYPE: " + line);
        }
    }
    return problems;
}

// ---- the validator itself -----------------------------------------------------------------

TEST(Exposition, ValidatorAcceptsGoodTextAndRejectsBadText) {
    EXPECT_TRUE(
        exposition_problems("# HELP a h\n# TYPE a counter\na 1\na{x=\"y\\\"\"} 2.5\n").empty());
    EXPECT_FALSE(exposition_problems("a 1\n").empty());                                   // no HELP
    EXPECT_FALSE(exposition_problems("# HELP a h\n# TYPE a counter\na 1.2.3\n").empty()); // value
    EXPECT_FALSE(exposition_problems("# HELP a h\n# TYPE a counter\na{x=y} 1\n").empty());
    EXPECT_FALSE(exposition_problems("# HELP a h\n# TYPE a counter\n# HELP a h\n").empty());
    EXPECT_FALSE(exposition_problems("# HELP a h\n# TYPE a counter\na_bucket 1\n").empty());
}

// ---- slots ----------------------------------------------------------------------------------

TEST(Slots, BindingWrapsIntoTheShardSlots) {
    ASSERT_GE(slot_count(), 2U);
    std::vector<std::size_t> seen;
    std::thread([&] {
        seen.push_back(thread_slot()); // unbound: the shared slot
        bind_thread_to_shard(0);
        seen.push_back(thread_slot());
        bind_thread_to_shard(slot_count() - 2);
        seen.push_back(thread_slot());
        bind_thread_to_shard(slot_count() - 1); // more shards than slots: wraps to shard 0's
        seen.push_back(thread_slot());
        bind_thread_to_shard(3 * (slot_count() - 1) + 1);
        seen.push_back(thread_slot());
    }).join();
    ASSERT_EQ(seen.size(), 5U);
    EXPECT_EQ(seen[0], 0U);
    EXPECT_EQ(seen[1], 1U);
    EXPECT_EQ(seen[2], slot_count() - 1);
    EXPECT_EQ(seen[3], 1U);
    EXPECT_EQ(seen[4], slot_count() > 2 ? 2U : 1U);
    EXPECT_EQ(thread_slot(), 0U); // the binding is per thread
}

// ---- counters and gauges ----------------------------------------------------------------

TEST(Counter, SumsEveryShardThreadExactly) {
    static counter_family f{"test_registry_threads_total", "Increments from many threads.", {}};
    counter& c = f.with({});
    constexpr std::size_t threads = 6;
    constexpr std::uint64_t per_thread = 100000;
    std::vector<std::thread> pool;
    for (std::size_t i = 0; i < threads; ++i) {
        pool.emplace_back([&c, i] {
            bind_thread_to_shard(i);
            for (std::uint64_t n = 0; n < per_thread; ++n) {
                c.inc();
            }
            c.inc(i); // and a bulk add
        });
    }
    c.inc(7); // the unbound main thread's slot
    for (auto& t : pool) {
        t.join();
    }
    const std::uint64_t expected = threads * per_thread + (0 + 1 + 2 + 3 + 4 + 5) + 7;
    EXPECT_EQ(c.value(), expected);
    EXPECT_EQ(render_one(f),
              "# HELP test_registry_threads_total Increments from many threads.\n"
              "# TYPE test_registry_threads_total counter\n"
              "test_registry_threads_total " +
                  std::to_string(expected) + "\n");
}

TEST(Counter, ChildrenPerLabelValuesAreStableAndSorted) {
    static counter_family f{"test_registry_labelled_total", "Labelled.", {"method", "code"}};
    counter& a = f.with({"publish", "100"});
    counter& b = f.with({"broadcast", "101"});
    EXPECT_EQ(&a, &f.with({"publish", "100"}));
    EXPECT_NE(&a, &b);
    a.inc(3);
    b.inc();
    f.with({"publish", "100"}).inc();
    EXPECT_EQ(a.value(), 4U);
    EXPECT_EQ(render_one(f),
              "# HELP test_registry_labelled_total Labelled.\n"
              "# TYPE test_registry_labelled_total counter\n"
              "test_registry_labelled_total{method=\"broadcast\",code=\"101\"} 1\n"
              "test_registry_labelled_total{method=\"publish\",code=\"100\"} 4\n");
}

TEST(Counter, FamilyWithoutChildrenRendersOnlyItsHeader) {
    static counter_family f{"test_registry_empty_total", "Nothing yet.", {"x"}};
    EXPECT_EQ(render_one(f),
              "# HELP test_registry_empty_total Nothing yet.\n"
              "# TYPE test_registry_empty_total counter\n");
}

TEST(Gauge, IncDecAndAddAcrossThreads) {
    static gauge_family f{"test_registry_inflight", "In flight.", {"transport"}};
    gauge& g = f.with({"websocket"});
    g.inc();
    g.inc();
    g.dec();
    EXPECT_EQ(g.value(), 1);
    g.add(-5);
    EXPECT_EQ(g.value(), -4);
    std::vector<std::thread> pool;
    for (std::size_t i = 0; i < 4; ++i) {
        pool.emplace_back([&g, i] {
            bind_thread_to_shard(i);
            for (int n = 0; n < 50000; ++n) {
                g.inc();
                if (n % 2 == 0) {
                    g.dec();
                }
            }
        });
    }
    for (auto& t : pool) {
        t.join();
    }
    EXPECT_EQ(g.value(), -4 + 4 * 25000);
    f.with({"sse"}).add(-3);
    EXPECT_EQ(render_one(f),
              "# HELP test_registry_inflight In flight.\n"
              "# TYPE test_registry_inflight gauge\n"
              "test_registry_inflight{transport=\"sse\"} -3\n"
              "test_registry_inflight{transport=\"websocket\"} 99996\n");
}

// ---- escaping -------------------------------------------------------------------------------

TEST(Escaping, LabelValues) {
    EXPECT_EQ(escape_label_value("plain"), "plain");
    EXPECT_EQ(escape_label_value(""), "");
    EXPECT_EQ(escape_label_value("a\"b"), "a\\\"b");
    EXPECT_EQ(escape_label_value("a\\b"), "a\\\\b");
    EXPECT_EQ(escape_label_value("a\nb"), "a\\nb");
    EXPECT_EQ(escape_label_value("\\\"\n"), "\\\\\\\"\\n");
    EXPECT_EQ(escape_label_value("tab\there"), "tab\there"); // only the three are escaped
}

TEST(Escaping, LabelValuesInRenderedFamily) {
    static counter_family f{"test_registry_escape_total", "Escapes.", {"path"}};
    f.with({"a\"b\\c\nd"}).inc();
    const auto text = render_one(f);
    EXPECT_NE(text.find("test_registry_escape_total{path=\"a\\\"b\\\\c\\nd\"} 1\n"),
              std::string::npos)
        << text;
    EXPECT_EQ(lines_of(text).size(), 3U); // the newline did not split the sample
    EXPECT_TRUE(exposition_problems(text).empty()) << text;
}

TEST(Escaping, HelpText) {
    static gauge_family f{"test_registry_help_escape", "first line\nsecond \\ \"quoted\"", {}};
    f.with({}).inc();
    EXPECT_EQ(render_one(f),
              "# HELP test_registry_help_escape first line\\nsecond \\\\ \"quoted\"\n"
              "# TYPE test_registry_help_escape gauge\n"
              "test_registry_help_escape 1\n");
}

// ---- values ---------------------------------------------------------------------------------

std::string value_text(double v) {
    std::string s;
    append_value(s, v);
    return s;
}

TEST(AppendValue, FormatsAsPrometheusDoes) {
    EXPECT_EQ(value_text(0), "0");
    EXPECT_EQ(value_text(1), "1");
    EXPECT_EQ(value_text(42), "42");
    EXPECT_EQ(value_text(-7), "-7");
    EXPECT_EQ(value_text(123456789012.0), "123456789012");
    EXPECT_EQ(value_text(0.5), "0.5");
    EXPECT_EQ(value_text(0.1), "0.1");
    EXPECT_EQ(value_text(0.005), "0.005");
    EXPECT_EQ(value_text(.000001), "1e-06");
    EXPECT_EQ(value_text(2.5), "2.5");
    EXPECT_EQ(value_text(-1.25), "-1.25");
    EXPECT_EQ(value_text(1e20), "1e+20");
    EXPECT_EQ(value_text(std::numeric_limits<double>::infinity()), "+Inf");
    EXPECT_EQ(value_text(-std::numeric_limits<double>::infinity()), "-Inf");
    EXPECT_EQ(value_text(std::numeric_limits<double>::quiet_NaN()), "NaN");
    std::string appended = "x ";
    append_value(appended, 3);
    EXPECT_EQ(appended, "x 3"); // appends, keeps what was there
}

// ---- quantile estimation --------------------------------------------------------------------

TEST(EstimateQuantile, EmptyIsNaN) {
    const double bounds[] = {1, 2, 4};
    const std::uint64_t none[] = {0, 0, 0, 0};
    EXPECT_TRUE(std::isnan(estimate_quantile(bounds, none, 0.5)));
    EXPECT_TRUE(std::isnan(estimate_quantile(bounds, {}, 0.99)));
}

TEST(EstimateQuantile, InterpolatesInsideTheOnlyBucket) {
    const double bounds[] = {1, 2, 4};
    const std::uint64_t one_bucket[] = {0, 10, 0, 0}; // all in (1, 2]
    EXPECT_DOUBLE_EQ(estimate_quantile(bounds, one_bucket, 0.5), 1.5);
    EXPECT_DOUBLE_EQ(estimate_quantile(bounds, one_bucket, 0.1), 1.1);
    EXPECT_DOUBLE_EQ(estimate_quantile(bounds, one_bucket, 0.99), 1.99);
    EXPECT_DOUBLE_EQ(estimate_quantile(bounds, one_bucket, 1.0), 2.0);
    const std::uint64_t first[] = {4, 0, 0, 0}; // all in [0, 1]: lower bound is 0
    EXPECT_DOUBLE_EQ(estimate_quantile(bounds, first, 0.25), 0.25);
    EXPECT_DOUBLE_EQ(estimate_quantile(bounds, first, 0.5), 0.5);
}

TEST(EstimateQuantile, SpreadOverBuckets) {
    const double bounds[] = {1, 2, 4};
    const std::uint64_t spread[] = {5, 5, 10, 0};                    // 20 observations
    EXPECT_DOUBLE_EQ(estimate_quantile(bounds, spread, 0.25), 1.0);  // rank 5: end of first
    EXPECT_DOUBLE_EQ(estimate_quantile(bounds, spread, 0.375), 1.5); // rank 7.5
    EXPECT_DOUBLE_EQ(estimate_quantile(bounds, spread, 0.75), 3.0);  // rank 15: mid (2, 4]
    EXPECT_DOUBLE_EQ(estimate_quantile(bounds, spread, 1.0), 4.0);
    // Empty buckets in between are skipped.
    const std::uint64_t gaps[] = {2, 0, 2, 0};
    EXPECT_DOUBLE_EQ(estimate_quantile(bounds, gaps, 0.75), 3.0); // rank 3: mid (2, 4]
}

TEST(EstimateQuantile, BeyondTheLastBoundIsTheLastBound) {
    const double bounds[] = {1, 2, 4};
    const std::uint64_t overflow[] = {0, 0, 0, 7};
    EXPECT_DOUBLE_EQ(estimate_quantile(bounds, overflow, 0.5), 4.0);
    const std::uint64_t mostly_low[] = {9, 0, 0, 1};
    EXPECT_DOUBLE_EQ(estimate_quantile(bounds, mostly_low, 0.5), 5.0 / 9.0);
    EXPECT_DOUBLE_EQ(estimate_quantile(bounds, mostly_low, 0.999), 4.0);
    const std::uint64_t only_inf[] = {3};
    EXPECT_DOUBLE_EQ(estimate_quantile({}, only_inf, 0.5), 0.0);
}

// ---- histograms -----------------------------------------------------------------------------

constexpr double small_bounds[] = {1, 2, 5};

TEST(Histogram, CumulativeBucketsSumAndCount) {
    histogram h(small_bounds);
    for (double v : {0.5, 1.0, 1.5, 2.0, 3.0, 10.0}) { // 1 and 2 land in their own bound (le)
        h.observe(v);
    }
    const auto s = h.read();
    EXPECT_EQ(s.cumulative, (std::vector<std::uint64_t>{2, 4, 5, 6}));
    EXPECT_EQ(s.count, 6U);
    EXPECT_DOUBLE_EQ(s.sum, 18.0);
    EXPECT_EQ(s.recent, (std::vector<std::uint64_t>{2, 2, 1, 1})); // per bucket, not cumulative
}

TEST(Histogram, ObservationsFromManyShardThreads) {
    histogram h(small_bounds);
    std::vector<std::thread> pool;
    for (std::size_t i = 0; i < 4; ++i) {
        pool.emplace_back([&h, i] {
            bind_thread_to_shard(i);
            for (int n = 0; n < 10000; ++n) {
                h.observe(static_cast<double>(i)); // 0, 1, 2, 3
            }
        });
    }
    for (auto& t : pool) {
        t.join();
    }
    const auto s = h.read();
    EXPECT_EQ(s.cumulative, (std::vector<std::uint64_t>{20000, 30000, 40000, 40000}));
    EXPECT_EQ(s.count, 40000U);
    EXPECT_DOUBLE_EQ(s.sum, 60000.0);
}

TEST(Histogram, ClearingTheWindowKeepsTheTotals) {
    histogram h(small_bounds);
    h.observe(1.5);
    h.observe(4);
    h.clear_window(0);
    h.clear_window(1);
    const auto s = h.read();
    EXPECT_EQ(s.recent, (std::vector<std::uint64_t>{0, 0, 0, 0}));
    EXPECT_EQ(s.cumulative, (std::vector<std::uint64_t>{0, 1, 2, 2}));
    EXPECT_EQ(s.count, 2U);
    h.observe(0.25);
    EXPECT_EQ(h.read().recent, (std::vector<std::uint64_t>{1, 0, 0, 0}));
}

TEST(HistogramFamily, RendersBucketsSumCountAndInfEqualsCount) {
    static histogram_family f{
        "test_registry_duration_seconds", "Durations.", {"method"}, small_bounds};
    auto& h = f.with({"publish"});
    for (double v : {0.5, 1.0, 1.5, 3.0, 7.0}) {
        h.observe(v);
    }
    const auto text = render_one(f);
    EXPECT_EQ(text,
              "# HELP test_registry_duration_seconds Durations.\n"
              "# TYPE test_registry_duration_seconds histogram\n"
              "test_registry_duration_seconds_bucket{method=\"publish\",le=\"1\"} 2\n"
              "test_registry_duration_seconds_bucket{method=\"publish\",le=\"2\"} 3\n"
              "test_registry_duration_seconds_bucket{method=\"publish\",le=\"5\"} 4\n"
              "test_registry_duration_seconds_bucket{method=\"publish\",le=\"+Inf\"} 5\n"
              "test_registry_duration_seconds_sum{method=\"publish\"} 13\n"
              "test_registry_duration_seconds_count{method=\"publish\"} 5\n");
    EXPECT_TRUE(exposition_problems(text).empty()) << text;
}

TEST(HistogramFamily, FractionalBoundsAndNoLabels) {
    static constexpr double bounds[] = {.005, .25, 2.5};
    static histogram_family f{"test_registry_fraction_seconds", "Fractions.", {}, bounds};
    f.with({}).observe(0.1);
    const auto text = render_one(f);
    EXPECT_EQ(text,
              "# HELP test_registry_fraction_seconds Fractions.\n"
              "# TYPE test_registry_fraction_seconds histogram\n"
              "test_registry_fraction_seconds_bucket{le=\"0.005\"} 0\n"
              "test_registry_fraction_seconds_bucket{le=\"0.25\"} 1\n"
              "test_registry_fraction_seconds_bucket{le=\"2.5\"} 1\n"
              "test_registry_fraction_seconds_bucket{le=\"+Inf\"} 1\n"
              "test_registry_fraction_seconds_sum 0.1\n"
              "test_registry_fraction_seconds_count 1\n");
    EXPECT_TRUE(exposition_problems(text).empty()) << text;
}

TEST(HistogramFamily, SummaryAndHistogram) {
    static constexpr double bounds[] = {1, 2, 4};
    static histogram_family f{
        "test_registry_command_seconds", "Summary help.", {"op"}, bounds, true, "Histogram help."};
    auto& h = f.with({"x"});
    for (int i = 0; i < 4; ++i) {
        h.observe(1.5); // all in (1, 2]
    }
    f.with({"y"}); // a child with no observations
    const auto text = render_one(f);
    EXPECT_EQ(text,
              "# HELP test_registry_command_seconds Summary help.\n"
              "# TYPE test_registry_command_seconds summary\n"
              "test_registry_command_seconds{op=\"x\",quantile=\"0.5\"} 1.5\n"
              "test_registry_command_seconds{op=\"x\",quantile=\"0.99\"} 1.99\n"
              "test_registry_command_seconds{op=\"x\",quantile=\"0.999\"} 1.999\n"
              "test_registry_command_seconds_sum{op=\"x\"} 6\n"
              "test_registry_command_seconds_count{op=\"x\"} 4\n"
              "test_registry_command_seconds{op=\"y\",quantile=\"0.5\"} NaN\n"
              "test_registry_command_seconds{op=\"y\",quantile=\"0.99\"} NaN\n"
              "test_registry_command_seconds{op=\"y\",quantile=\"0.999\"} NaN\n"
              "test_registry_command_seconds_sum{op=\"y\"} 0\n"
              "test_registry_command_seconds_count{op=\"y\"} 0\n"
              "# HELP test_registry_command_seconds_histogram Histogram help.\n"
              "# TYPE test_registry_command_seconds_histogram histogram\n"
              "test_registry_command_seconds_histogram_bucket{op=\"x\",le=\"1\"} 0\n"
              "test_registry_command_seconds_histogram_bucket{op=\"x\",le=\"2\"} 4\n"
              "test_registry_command_seconds_histogram_bucket{op=\"x\",le=\"4\"} 4\n"
              "test_registry_command_seconds_histogram_bucket{op=\"x\",le=\"+Inf\"} 4\n"
              "test_registry_command_seconds_histogram_sum{op=\"x\"} 6\n"
              "test_registry_command_seconds_histogram_count{op=\"x\"} 4\n"
              "test_registry_command_seconds_histogram_bucket{op=\"y\",le=\"1\"} 0\n"
              "test_registry_command_seconds_histogram_bucket{op=\"y\",le=\"2\"} 0\n"
              "test_registry_command_seconds_histogram_bucket{op=\"y\",le=\"4\"} 0\n"
              "test_registry_command_seconds_histogram_bucket{op=\"y\",le=\"+Inf\"} 0\n"
              "test_registry_command_seconds_histogram_sum{op=\"y\"} 0\n"
              "test_registry_command_seconds_histogram_count{op=\"y\"} 0\n");
    EXPECT_TRUE(exposition_problems(text).empty()) << text;

    // Once the recent window is cleared the quantiles are unknown, the totals stay.
    f.clear_window(0);
    f.clear_window(1);
    const auto cleared = render_one(f);
    EXPECT_NE(cleared.find("test_registry_command_seconds{op=\"x\",quantile=\"0.5\"} NaN\n"),
              std::string::npos)
        << cleared;
    EXPECT_NE(cleared.find("test_registry_command_seconds_count{op=\"x\"} 4\n"), std::string::npos);
}

TEST(HistogramFamily, SummaryWithoutSeparateHistogramHelpReusesTheHelp) {
    static constexpr double bounds[] = {1};
    static histogram_family f{"test_registry_reuse_seconds", "Shared help.", {}, bounds, true};
    const auto text = render_one(f);
    EXPECT_EQ(text,
              "# HELP test_registry_reuse_seconds Shared help.\n"
              "# TYPE test_registry_reuse_seconds summary\n"
              "# HELP test_registry_reuse_seconds_histogram Shared help.\n"
              "# TYPE test_registry_reuse_seconds_histogram histogram\n");
}

// ---- the registry ---------------------------------------------------------------------------

/// The names of # HELP lines, in order.
std::vector<std::string> help_names(const std::string& text) {
    std::vector<std::string> out;
    for (const auto& line : lines_of(text)) {
        if (line.starts_with("# HELP ")) {
            const auto rest = line.substr(7);
            out.push_back(rest.substr(0, rest.find(' ')));
        }
    }
    return out;
}

TEST(Registry, RendersEverythingValidAndSortedWithSampledFamilies) {
    precreate();
    node_messages_sent.with({"publication", ""}).inc(); // the catalog is linked and rendered
    static counter_family mine{"test_registry_global_total", "Registered.", {"k"}};
    mine.with({"v"}).inc(5);

    std::vector<sampled_family> extra;
    extra.push_back({"test_registry_sampled_gauge",
                     "Sampled \\ at scrape.",
                     "gauge",
                     {{{{"shard", "0"}, {"note", "q\"uote"}}, 2.5}, {{}, 3}}});
    extra.push_back({"aaaa_test_registry_first", "First by name.", "counter", {{{}, 1}}});
    extra.push_back({"zzzz_test_registry_last", "Last by name.", "gauge", {}});

    const std::string text = registry::global().render(extra);
    const auto problems = exposition_problems(text);
    EXPECT_TRUE(problems.empty()) << ::testing::PrintToString(problems);

    EXPECT_NE(text.find("# HELP test_registry_sampled_gauge Sampled \\\\ at scrape.\n"
                        "# TYPE test_registry_sampled_gauge gauge\n"
                        "test_registry_sampled_gauge{shard=\"0\",note=\"q\\\"uote\"} 2.5\n"
                        "test_registry_sampled_gauge 3\n"),
              std::string::npos)
        << text;
    EXPECT_NE(text.find("# TYPE aaaa_test_registry_first counter\naaaa_test_registry_first 1\n"),
              std::string::npos);
    EXPECT_NE(text.find("# TYPE zzzz_test_registry_last gauge\n"), std::string::npos);
    EXPECT_NE(text.find("test_registry_global_total{k=\"v\"} 5\n"), std::string::npos);
    EXPECT_NE(text.find("centrifugo_node_messages_sent_count{type=\"publication\","
                        "channel_namespace=\"\"}"),
              std::string::npos);

    auto names = help_names(text);
    ASSERT_GE(names.size(), 5U);
    EXPECT_EQ(names.front(), "aaaa_test_registry_first");
    EXPECT_EQ(names.back(), "zzzz_test_registry_last");
    // A summary family's histogram follows its summary; the families are sorted by name.
    std::vector<std::string> families;
    for (const auto& n : names) {
        if (!families.empty() && n == families.back() + "_histogram") {
            continue;
        }
        families.push_back(n);
    }
    EXPECT_TRUE(std::is_sorted(families.begin(), families.end()))
        << ::testing::PrintToString(families);
    EXPECT_EQ(std::set<std::string>(names.begin(), names.end()).size(), names.size());
}

TEST(Registry, SampledFamiliesAloneAreSortedToo) {
    std::vector<sampled_family> extra;
    extra.push_back({"test_registry_b", "B.", "gauge", {{{}, 2}}});
    extra.push_back({"test_registry_a", "A.", "gauge", {{{}, 1}}});
    const std::string text = registry::global().render(extra);
    const auto a = text.find("# HELP test_registry_a A.\n# TYPE test_registry_a gauge\n"
                             "test_registry_a 1\n");
    const auto b = text.find("# HELP test_registry_b B.\n# TYPE test_registry_b gauge\n"
                             "test_registry_b 2\n");
    ASSERT_NE(a, std::string::npos) << text;
    ASSERT_NE(b, std::string::npos) << text;
    EXPECT_LT(a, b);
}

} // namespace
} // namespace gyre::metrics
