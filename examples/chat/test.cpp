// SPDX-License-Identifier: MIT
// The chat example's tests: users in two rooms of one in-process client.
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
    auto ada = client.websocket_connect("/ws/lobby?name=ada");
    CHECK(ada.receive_text() == "* ada joined");
    auto bob = client.websocket_connect("/ws/lobby?name=bob");
    CHECK(ada.receive_text() == "* bob joined");
    CHECK(bob.receive_text() == "* bob joined");
    auto cy = client.websocket_connect("/ws/lobby?name=cy");
    for (auto* s : {&ada, &bob, &cy}) CHECK(s->receive_text() == "* cy joined");

    bob.send_text("hello all");
    for (auto* s : {&ada, &bob, &cy}) CHECK(s->receive_text() == "bob: hello all");
    cy.send_text("hi bob");
    for (auto* s : {&ada, &bob, &cy}) CHECK(s->receive_text() == "cy: hi bob");

    bob.close();
    CHECK(ada.receive_text() == "* bob left");
    CHECK(cy.receive_text() == "* bob left");
    CHECK(client.topics().stats().subscriptions == 2);
    ada.send_text("bye");
    CHECK(cy.receive_text() == "ada: bye");
    CHECK(ada.receive_text() == "ada: bye");
}

TEST_CASE("chat: rooms are apart", "[example][chat]") {
    aster::test_client client{chat::app};
    auto ada = client.websocket_connect("/ws/red?name=ada");
    CHECK(ada.receive_text() == "* ada joined");
    auto bob = client.websocket_connect("/ws/blue?name=bob");
    CHECK(bob.receive_text() == "* bob joined");
    auto cy = client.websocket_connect("/ws/red?name=cy");
    CHECK(ada.receive_text() == "* cy joined");
    CHECK(cy.receive_text() == "* cy joined");

    bob.send_text("anyone in blue?");
    CHECK(bob.receive_text() == "bob: anyone in blue?");
    ada.send_text("red only");
    CHECK(cy.receive_text() == "ada: red only");
    CHECK(ada.receive_text() == "ada: red only");
    // bob heard nothing from red: his next message is his own.
    bob.send_text("still alone");
    CHECK(bob.receive_text() == "bob: still alone");
    auto stats = client.topics().stats();
    CHECK(stats.topics == 2);
    CHECK(stats.subscriptions == 3);
}

TEST_CASE("chat: a guest without a name gets one", "[example][chat]") {
    aster::test_client client{chat::app};
    auto guest = client.websocket_connect("/ws/lobby");
    CHECK_THAT(guest.receive_text(), Catch::StartsWith("* user-") && Catch::EndsWith(" joined"));
}
