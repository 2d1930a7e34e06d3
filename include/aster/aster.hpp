// SPDX-License-Identifier: MIT
// The whole of aster in one include; also the root of the generated single header.
#ifndef ASTER_ASTER_HPP
#define ASTER_ASTER_HPP

#include <aster/detail/config.hpp>
#include <aster/version.hpp>
#include <aster/status.hpp>
#include <aster/error.hpp>
#include <aster/method.hpp>
#include <aster/headers.hpp>
#include <aster/url.hpp>
#include <aster/cookies.hpp>
#include <aster/convertors.hpp>
#include <aster/request.hpp>
#include <aster/response.hpp>
#include <aster/websocket.hpp>
#include <aster/topics.hpp>
#include <aster/endpoints.hpp>
#include <aster/routing.hpp>
#include <aster/middleware.hpp>
#include <aster/lifespan.hpp>
#include <aster/exception_handlers.hpp>
#include <aster/application.hpp>
#include <aster/metrics.hpp>
#include <aster/tls.hpp>
#include <aster/options.hpp>
#include <aster/log.hpp>
#include <aster/server.hpp>
#include <aster/test/stream.hpp>
#include <aster/test_client.hpp>

#endif // ASTER_ASTER_HPP
