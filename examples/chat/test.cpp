// SPDX-License-Identifier: MIT
// The chat example's tests: three users talking through one in-process client.
#include "app.hpp"

#include <catch2/catch.hpp>

#include <string>

TEST_CASE("chat: GET / serves the page", "[example][chat]") {
    aster::test_client client{chat::app};
    auto r = client.get("/");
    CHECK(r.header("content-type") == "text/html; charset=utf-8");
    CHECK_THAT(r.text(), Catch::Contains("new WebSocket("));
}

TEST_CASE("chat: three users see joins, messages and leaves", "[example][chat]") {
    aster::test_client client{chat::app};
    auto ada = client.websocket_connect("/ws?name=ada");
    CHECK(ada.receive_text() == "* ada joined");
    auto bob = client.websocket_connect("/ws?name=bob");
    CHECK(ada.receive_text() == "* bob joined");
    CHECK(bob.receive_text() == "* bob joined");
    auto cy = client.websocket_connect("/ws?name=cy");
    for (auto* s : {&ada, &bob, &cy}) CHECK(s->receive_text() == "* cy joined");

    bob.send_text("hello all");
    for (auto* s : {&ada, &bob, &cy}) CHECK(s->receive_text() == "bob: hello all");
    cy.send_text("hi bob");
    for (auto* s : {&ada, &bob, &cy}) CHECK(s->receive_text() == "cy: hi bob");

    bob.close();
    CHECK(ada.receive_text() == "* bob left");
    CHECK(cy.receive_text() == "* bob left");
    CHECK(chat::the_room().members.size() == 2);
    ada.send_text("bye");
    CHECK(cy.receive_text() == "ada: bye");
    CHECK(ada.receive_text() == "ada: bye");
}
