// SPDX-License-Identifier: MIT
// The engine's templates instantiated for every stream (TCP, TLS, the test stream), compiled
// with -Wall -Wextra -Werror: a stale parameter or friend in code that only a template
// instantiation reaches shows here. Compiled, never linked.
#define ASTER_SEPARATE_COMPILATION
#include <aster/impl/src.hpp>
