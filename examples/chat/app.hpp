// SPDX-License-Identifier: MIT
// Chat: GET / serves a page; /ws broadcasts each message to everyone, announcing joins and leaves.
#pragma once

#include <aster/aster.hpp>

#include <algorithm>
#include <string>
#include <vector>

namespace chat {

// The room lives on the server's one event loop (run this example with one thread), so a plain
// vector needs no lock. Each connection removes itself in on_disconnect.
struct room {
    std::vector<aster::websocket*> members;
    int next_id = 1;

    aster::task<> broadcast(std::string text) {
        auto recipients = members; // a send may suspend while others join or leave
        for (auto* member : recipients) {
            if (std::find(members.begin(), members.end(), member) == members.end()) continue;
            try {
                co_await member->send_text(text);
            } catch (const aster::websocket_disconnect&) {
                // That member is leaving; its own on_disconnect cleans up.
            }
        }
    }
};

inline room& the_room() {
    static room r;
    return r;
}

struct chat_endpoint : aster::websocket_endpoint {
    static constexpr auto encoding = aster::encoding::text;
    std::string name;

    aster::task<> on_connect(aster::websocket& ws) {
        auto wanted = ws.request().query_params().get("name").value_or("");
        name = wanted.empty() ? "user-" + std::to_string(the_room().next_id++)
                              : std::string(wanted);
        co_await ws.accept();
        the_room().members.push_back(&ws);
        co_await the_room().broadcast("* " + name + " joined");
    }
    aster::task<> on_receive(aster::websocket&, std::string_view message) {
        co_await the_room().broadcast(name + ": " + std::string(message));
    }
    aster::task<> on_disconnect(aster::websocket& ws, aster::close_code) {
        std::erase(the_room().members, &ws);
        co_await the_room().broadcast("* " + name + " left");
    }
};

inline constexpr std::string_view page = R"html(<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>aster chat</title>
<style>body{font:16px sans-serif;margin:2em}#log{list-style:none;padding:0}</style></head>
<body>
<h1>aster chat</h1>
<form id="form"><input id="text" autocomplete="off" autofocus><button id="send">Send</button></form>
<ul id="log"></ul>
<script>
const params = new URLSearchParams(location.search);
const url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws" +
            (params.get("name") ? "?name=" + encodeURIComponent(params.get("name")) : "");
const socket = new WebSocket(url);
const log = document.getElementById("log");
socket.onopen = () => document.body.dataset.connected = "yes";
socket.onmessage = (event) => {
  const item = document.createElement("li");
  item.textContent = event.data;
  log.appendChild(item);
};
document.getElementById("form").onsubmit = (event) => {
  event.preventDefault();
  const input = document.getElementById("text");
  if (input.value) socket.send(input.value);
  input.value = "";
};
</script>
</body>
</html>
)html";

inline aster::response index(aster::request&) { return aster::html(std::string(page)); }

inline constexpr auto routes = aster::routes(aster::route<"/">(index),
                                             aster::websocket_route<"/ws", chat_endpoint>());

inline const aster::application app{routes};

} // namespace chat
