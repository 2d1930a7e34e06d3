// SPDX-License-Identifier: MIT
// What the topic benchmarks' load generators share without Asio: failing with a message, CPU
// time of this and of other processes, command-line numbers, the monotonic clock.
#pragma once

#include <sys/resource.h>

#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace bench {

using clock_type = std::chrono::steady_clock;

inline const char* program_name = "load";

[[noreturn]] inline void fail(const std::string& why) {
    std::fprintf(stderr, "%s: %s\n", program_name, why.c_str());
    std::exit(1);
}

inline double cpu_seconds() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
           double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

// CPU seconds (user + system) a process has used so far, from /proc/PID/stat; -1 if unknown.
inline double process_cpu_seconds(long pid) {
    std::string path = "/proc/" + std::to_string(pid) + "/stat";
    std::FILE* f = std::fopen(path.c_str(), "r");
    if (!f) return -1;
    char line[1024];
    std::size_t n = std::fread(line, 1, sizeof line - 1, f);
    std::fclose(f);
    line[n] = '\0';
    const char* p = std::strrchr(line, ')'); // the command name may hold spaces
    if (!p) return -1;
    unsigned long long utime = 0, stime = 0;
    // After ") ": state, then fields 4..13; utime and stime are fields 14 and 15.
    if (std::sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime,
                    &stime) != 2)
        return -1;
    return double(utime + stime) / double(sysconf(_SC_CLK_TCK));
}

// The summed CPU seconds of `pids`; -1 if any is unknown.
inline double processes_cpu_seconds(const std::vector<long>& pids) {
    double total = 0;
    for (long pid : pids) {
        const double s = process_cpu_seconds(pid);
        if (s < 0) return -1;
        total += s;
    }
    return total;
}

// "1,2,3" as numbers.
inline std::vector<long> parse_list(std::string_view flag, std::string_view text) {
    std::vector<long> out;
    while (!text.empty()) {
        const auto comma = text.find(',');
        const std::string item(text.substr(0, comma));
        char* end = nullptr;
        const long value = std::strtol(item.c_str(), &end, 10);
        if (item.empty() || *end != '\0' || value < 0)
            throw std::invalid_argument(std::string(flag) +
                                        ": not a list of numbers: " + std::string(text));
        out.push_back(value);
        text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
    }
    return out;
}

inline double parse_number(std::string_view flag, const char* text) {
    char* end = nullptr;
    const double value = std::strtod(text, &end);
    if (*text == '\0' || *end != '\0' || value < 0)
        throw std::invalid_argument(std::string(flag) + ": not a number: " + text);
    return value;
}

inline std::int64_t now_ns() noexcept {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               clock_type::now().time_since_epoch())
        .count();
}

} // namespace bench
