// Times as text for messages.
#pragma once

#include <string>

#include "dojang/pki/clock.hpp"

namespace dojang {

// t in UTC with a strftime format, e.g. "%Y-%m-%d" -> "2027-03-01".
std::string format_utc(TimePoint t, const char* format = "%Y-%m-%d %H:%M:%S UTC");

}  // namespace dojang
