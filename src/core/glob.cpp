#include "core/glob.hpp"

#include <string>
#include <vector>

namespace gyre::glob {

namespace {

/// Index just past the `]` closing the class that starts at p[i] == '[', or npos.
std::size_t class_end(std::string_view p, std::size_t i) noexcept {
    std::size_t j = i + 1;
    if (j < p.size() && p[j] == '!') {
        ++j;
    }
    for (; j < p.size(); ++j) {
        if (p[j] == '\\') {
            ++j;
        } else if (p[j] == ']') {
            return j + 1;
        }
    }
    return std::string_view::npos;
}

/// Index just past the `}` closing the group at p[i] == '{' (groups nest), or npos.
std::size_t group_end(std::string_view p, std::size_t i) noexcept {
    int depth = 0;
    for (std::size_t j = i; j < p.size(); ++j) {
        if (p[j] == '\\') {
            ++j;
        } else if (p[j] == '[') {
            j = class_end(p, j);
            if (j == std::string_view::npos) {
                return j;
            }
            --j;
        } else if (p[j] == '{') {
            ++depth;
        } else if (p[j] == '}' && --depth == 0) {
            return j + 1;
        }
    }
    return std::string_view::npos;
}

bool class_matches(std::string_view cls, char c) noexcept {
    // cls is the text between '[' and ']'
    bool negate = false;
    std::size_t i = 0;
    if (!cls.empty() && cls[0] == '!') {
        negate = true;
        i = 1;
    }
    bool hit = false;
    while (i < cls.size()) {
        char lo = cls[i];
        if (lo == '\\' && i + 1 < cls.size()) {
            lo = cls[++i];
        }
        ++i;
        if (i + 1 < cls.size() && cls[i] == '-') {
            char hi = cls[i + 1];
            i += 2;
            hit = hit || (c >= lo && c <= hi);
        } else {
            hit = hit || c == lo;
        }
    }
    return hit != negate;
}

bool match_at(std::string_view p, std::string_view t) {
    std::size_t pi = 0;
    std::size_t ti = 0;
    while (pi < p.size()) {
        const char c = p[pi];
        if (c == '*') {
            while (pi < p.size() && p[pi] == '*') {
                ++pi;
            }
            if (pi == p.size()) {
                return true;
            }
            for (std::size_t k = ti; k <= t.size(); ++k) {
                if (match_at(p.substr(pi), t.substr(k))) {
                    return true;
                }
            }
            return false;
        }
        if (c == '{') {
            const std::size_t end = group_end(p, pi);
            const std::string_view rest = p.substr(end);
            // Split the group on top-level commas and try each alternative followed by rest.
            std::size_t start = pi + 1;
            int depth = 0;
            for (std::size_t j = pi + 1; j < end; ++j) {
                if (p[j] == '\\') {
                    ++j;
                    continue;
                }
                if (p[j] == '{') {
                    ++depth;
                } else if (p[j] == '}' && depth > 0) {
                    --depth;
                } else if ((p[j] == ',' && depth == 0) || j == end - 1) {
                    std::string alt(p.substr(start, j - start));
                    alt.append(rest);
                    if (match_at(alt, t.substr(ti))) {
                        return true;
                    }
                    start = j + 1;
                }
            }
            return false;
        }
        if (ti == t.size()) {
            return false;
        }
        if (c == '?') {
            ++pi;
        } else if (c == '[') {
            const std::size_t end = class_end(p, pi);
            if (!class_matches(p.substr(pi + 1, end - pi - 2), t[ti])) {
                return false;
            }
            pi = end;
        } else {
            char lit = c;
            if (c == '\\') {
                lit = p[++pi];
            }
            if (lit != t[ti]) {
                return false;
            }
            ++pi;
        }
        ++ti;
    }
    return ti == t.size();
}

} // namespace

bool valid(std::string_view pattern) noexcept {
    for (std::size_t i = 0; i < pattern.size(); ++i) {
        const char c = pattern[i];
        if (c == '\\') {
            if (++i == pattern.size()) {
                return false;
            }
        } else if (c == '[') {
            const auto end = class_end(pattern, i);
            if (end == std::string_view::npos || end == i + 2) {
                return false; // unclosed or empty class
            }
            i = end - 1;
        } else if (c == '{') {
            if (group_end(pattern, i) == std::string_view::npos) {
                return false;
            }
        }
    }
    return true;
}

bool match(std::string_view pattern, std::string_view text) {
    return valid(pattern) && match_at(pattern, text);
}

} // namespace gyre::glob
