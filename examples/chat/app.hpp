// SPDX-License-Identifier: MIT
// Chat rooms: GET / serves a page; /ws/{room} joins a room (a topic), announces joins and
// leaves, and sends each message to everyone in the room, on any number of threads.
#pragma once

#include <aster/aster.hpp>

#include <atomic>
#include <string>

namespace chat {

// Names for users who give none; any thread may take one.
inline std::string next_guest_name() {
    static std::atomic<int> next{1};
    return "user-" + std::to_string(next.fetch_add(1, std::memory_order_relaxed));
}

// A room is the topic "room:<name>". A member that cannot keep up is closed with 1013 (the
// default backpressure) instead of stalling the room.
struct chat_endpoint : aster::websocket_endpoint {
    static constexpr auto encoding = aster::encoding::text;
    std::string name, topic;

    aster::task<> on_connect(aster::websocket& ws) {
        auto wanted = ws.request().query_params().get("name").value_or("");
        name = wanted.empty() ? next_guest_name() : std::string(wanted);
        topic = "room:" + std::string(ws.request().path_param("room"));
        co_await ws.accept();
        ws.subscribe(topic);
        co_await ws.publish(topic, "* " + name + " joined", {.to_sender = true});
    }
    aster::task<> on_receive(aster::websocket& ws, std::string_view message) {
        co_await ws.publish(topic, name + ": " + std::string(message), {.to_sender = true});
    }
    aster::task<> on_disconnect(aster::websocket& ws, aster::close_code) {
        co_await ws.publish(topic, "* " + name + " left");
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
const room = params.get("room") || "lobby";
document.title = "aster chat: " + room;
const url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws/" +
            encodeURIComponent(room) +
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
                                             aster::websocket_route<"/ws/{room}", chat_endpoint>());

inline const aster::application app{routes};

} // namespace chat
