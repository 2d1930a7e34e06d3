// SPDX-License-Identifier: MIT
// Routing mistakes as compile errors that name the culprit. A static_assert's message is a fixed
// literal, so these carry the routes' patterns and names in their template arguments and the
// advice in the name of a deleted function: g++'s first `error:` line then reads, say,
// "use of deleted function '... duplicate_route<First, Second>::give_one_of_them_another_pattern_
// or_other_methods() [with First = ...{"/users/{id:int}"}; Second = ...{"/users/{uid:int}"}]'".
#ifndef ASTER_DETAIL_ROUTE_ERRORS_HPP
#define ASTER_DETAIL_ROUTE_ERRORS_HPP

#include <aster/detail/config.hpp>
#include <aster/detail/fixed_string.hpp>

namespace aster::detail {

/// Two routes of one table with the same pattern (up to parameter names) and a method in common:
/// the second could never be reached.
template <fixed_string First, fixed_string Second>
struct duplicate_route {
    static constexpr bool give_one_of_them_another_pattern_or_other_methods() = delete;
};

/// Two routes of one table (mounts included) with the same name.
template <fixed_string Name>
struct duplicate_route_name {
    static constexpr bool give_each_route_a_name_of_its_own() = delete;
};

/// url_path_for<Name> where no route of the app has that name.
template <fixed_string Name>
struct url_path_for_unknown_name {
    static constexpr bool name_a_route_so_with_named_or_correct_the_spelling() = delete;
};

} // namespace aster::detail

#endif // ASTER_DETAIL_ROUTE_ERRORS_HPP
