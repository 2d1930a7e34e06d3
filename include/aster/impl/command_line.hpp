// SPDX-License-Identifier: MIT
// Bodies of server_config's command line: from_args, parse_args, usage.
#ifndef ASTER_IMPL_COMMAND_LINE_HPP
#define ASTER_IMPL_COMMAND_LINE_HPP

#include <aster/options.hpp>

#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <string_view>

namespace aster {

inline std::string server_config::usage(std::string_view program) {
    return "usage: " + std::string(program) +
           " [options]\n"
           "  --host HOST              address to listen on (default 127.0.0.1)\n"
           "  --port PORT              port to listen on, 0 for any free one (default 8000)\n"
           "  --threads N              event loops, one per thread; 0: one per core (default)\n"
           "  --shutdown-timeout MS    on SIGINT/SIGTERM, cut what is still open after MS\n"
           "  --tls-cert FILE          serve https and wss with this certificate chain (PEM)...\n"
           "  --tls-key FILE           ...and this private key (PEM)\n"
           "  --no-access-log          no line per request and per WebSocket session\n"
           "  --log-level LEVEL        debug, info (default), warning, error or off\n"
           "  --log-timestamps         a UTC timestamp at the start of each log line\n"
           "  --redis URL              share topics through Redis: "
           "redis://[user:pass@]host[:port][/db]\n"
           "  --reuse-port             share the port with other processes (restarts without\n"
           "                           downtime); otherwise a port in use is refused\n"
           "  -h, --help               this text\n";
}

inline server_config server_config::parse_args(int argc, char** argv, server_config config) {
    auto number = [](std::string_view flag, std::string_view text, unsigned long max) {
        unsigned long value = 0;
        if (text.empty()) throw std::invalid_argument(std::string(flag) + " needs a number");
        for (char c : text) {
            if (c < '0' || c > '9' || value > max)
                throw std::invalid_argument(std::string(flag) +
                                            ": not a number: " + std::string(text));
            value = value * 10 + unsigned(c - '0');
        }
        if (value > max)
            throw std::invalid_argument(std::string(flag) + ": out of range: " + std::string(text));
        return value;
    };
    auto file = [](std::string_view flag, std::string_view text) {
        if (text.empty()) throw std::invalid_argument(std::string(flag) + " needs a file name");
        return std::string(text);
    };
    auto level = [](std::string_view text) {
        constexpr std::string_view names[] = {"debug", "info", "warning", "error", "off"};
        for (int i = 0; i < 5; ++i)
            if (text == names[i]) return aster::log_level(i);
        throw std::invalid_argument("--log-level: one of debug, info, warning, error, off, not '" +
                                    std::string(text) + "'");
    };
    const std::string_view program = argc > 0 ? argv[0] : "server";
    std::string cert, key;
    for (int i = 1; i < argc; ++i) {
        std::string_view arg = argv[i], value;
        auto eq = arg.find('=');
        const bool takes_value = [&] {
            for (std::string_view f : {"--host", "--port", "--threads", "--shutdown-timeout",
                                       "--tls-cert", "--tls-key", "--log-level", "--redis"})
                if (arg.substr(0, eq) == f) return true;
            return false;
        }();
        if (eq != std::string_view::npos) {
            value = arg.substr(eq + 1);
            arg = arg.substr(0, eq);
        } else if (takes_value && i + 1 < argc) {
            value = argv[++i];
        }
        if (arg == "-h" || arg == "--help") throw help_requested(usage(program));
        else if (arg == "--host") config.host = std::string(value);
        else if (arg == "--port") config.port = std::uint16_t(number(arg, value, 65535));
        else if (arg == "--threads") config.threads = unsigned(number(arg, value, 1024));
        else if (arg == "--shutdown-timeout")
            config.shutdown_timeout = std::chrono::milliseconds(number(arg, value, 86'400'000));
        else if (arg == "--tls-cert") cert = file(arg, value);
        else if (arg == "--tls-key") key = file(arg, value);
        else if (arg == "--log-level") config.log_level = level(value);
        else if (arg == "--redis") {
            redis_address::parse(value); // a bad URL fails here, naming what is wrong
            config.broker = redis_broker{.url = std::string(value)};
        } else if (arg == "--no-access-log" && eq == std::string_view::npos)
            config.access_log = false;
        else if (arg == "--log-timestamps" && eq == std::string_view::npos)
            config.log_timestamps = true;
        else if (arg == "--reuse-port" && eq == std::string_view::npos) config.reuse_port = true;
        else
            throw std::invalid_argument("unknown option: " + std::string(argv[i]) +
                                        " (--help lists the options)");
    }
    if (cert.empty() != key.empty())
        throw std::invalid_argument("--tls-cert and --tls-key go together");
    if (!cert.empty()) config.tls = tls_options{std::move(cert), std::move(key)};
    return config;
}

inline server_config server_config::parse_args(int argc, char** argv) {
    return parse_args(argc, argv, server_config{});
}

inline server_config server_config::from_args(int argc, char** argv) {
    return from_args(argc, argv, server_config{});
}

inline server_config server_config::from_args(int argc, char** argv, server_config config) {
    const std::string program = argc > 0 ? argv[0] : "server";
    try {
        return parse_args(argc, argv, std::move(config));
    } catch (const help_requested& help) {
        std::fputs(help.what(), stdout);
        std::exit(0);
    } catch (const std::invalid_argument& e) {
        std::fprintf(stderr, "%s: %s\n%s", program.c_str(), e.what(), usage(program).c_str());
        std::exit(2);
    }
}

} // namespace aster

#endif // ASTER_IMPL_COMMAND_LINE_HPP
