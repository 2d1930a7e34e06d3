// SPDX-License-Identifier: MIT
// The library version, bumped by hand at release time.
#ifndef ASTER_VERSION_HPP
#define ASTER_VERSION_HPP

#define ASTER_VERSION_MAJOR 0
#define ASTER_VERSION_MINOR 1
#define ASTER_VERSION_PATCH 0
#define ASTER_VERSION_STRING "0.1.0"

#endif // ASTER_VERSION_HPP
