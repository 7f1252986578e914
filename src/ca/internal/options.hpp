// Validation and the on-disk form (hierarchy.conf) of the CA configuration.
#pragma once

#include <string>
#include <string_view>

#include "dojang/ca/hierarchy.hpp"

namespace dojang::ca::internal {

// Checks the options and returns them normalised (base_url without a trailing
// '/'). usage error naming the bad field.
Result<InitOptions> normalize_options(const InitOptions& options);

// hierarchy.conf text: "# comment" lines and "key = value" lines.
std::string format_options(const InitOptions& options);

// Parses hierarchy.conf text (unknown keys, missing keys, bad values: invalid_input).
Result<InitOptions> parse_options(std::string_view text);

}  // namespace dojang::ca::internal
