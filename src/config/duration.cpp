#include "config/duration.hpp"

#include <cstdint>
#include <utility>

namespace gyre::config {

std::optional<std::chrono::nanoseconds> parse_duration(std::string_view text) {
    if (text.empty()) {
        return std::nullopt;
    }
    bool negative = false;
    if (text[0] == '-' || text[0] == '+') {
        negative = text[0] == '-';
        text.remove_prefix(1);
    }
    if (text == "0") {
        return std::chrono::nanoseconds{0};
    }
    constexpr std::pair<std::string_view, double> units[] = {
        {"ns", 1.0}, {"us", 1e3}, {"µs", 1e3}, {"ms", 1e6}, {"s", 1e9}, {"m", 60e9}, {"h", 3600e9}};
    double total = 0;
    bool any = false;
    while (!text.empty()) {
        std::size_t i = 0;
        double value = 0;
        bool digits = false;
        while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
            value = value * 10 + (text[i] - '0');
            ++i;
            digits = true;
        }
        if (i < text.size() && text[i] == '.') {
            ++i;
            double scale = 0.1;
            while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
                value += (text[i] - '0') * scale;
                scale /= 10;
                ++i;
                digits = true;
            }
        }
        if (!digits) {
            return std::nullopt;
        }
        text.remove_prefix(i);
        bool matched = false;
        // Longest unit first among those sharing a prefix: "ms" before "m".
        for (const auto& [unit, factor] : units) {
            if (text.starts_with(unit) && !(unit == "m" && text.starts_with("ms"))) {
                total += value * factor;
                text.remove_prefix(unit.size());
                matched = true;
                break;
            }
        }
        if (!matched) {
            return std::nullopt;
        }
        any = true;
    }
    if (!any || total > 9.2e18) {
        return std::nullopt;
    }
    const auto ns = static_cast<std::int64_t>(total + 0.5);
    return std::chrono::nanoseconds{negative ? -ns : ns};
}

std::string format_duration(std::chrono::nanoseconds d) {
    std::int64_t ns = d.count();
    if (ns == 0) {
        return "0s";
    }
    std::string sign = ns < 0 ? "-" : "";
    ns = ns < 0 ? -ns : ns;
    if (ns < 1'000'000'000 && ns % 1'000'000 == 0) {
        return sign + std::to_string(ns / 1'000'000) + "ms";
    }
    if (ns < 1'000'000'000) {
        return sign + std::to_string(ns) + "ns";
    }
    const std::int64_t total_s = ns / 1'000'000'000;
    const std::int64_t h = total_s / 3600;
    const std::int64_t m = (total_s % 3600) / 60;
    const std::int64_t s = total_s % 60;
    const std::int64_t frac = ns % 1'000'000'000;
    std::string out = sign;
    if (h > 0) {
        out += std::to_string(h) + "h";
    }
    if (h > 0 || m > 0) {
        out += std::to_string(m) + "m";
    }
    out += std::to_string(s);
    if (frac != 0) {
        std::string f = std::to_string(frac + 1'000'000'000).substr(1);
        while (!f.empty() && f.back() == '0') {
            f.pop_back();
        }
        out += "." + f;
    }
    return out + "s";
}

} // namespace gyre::config
