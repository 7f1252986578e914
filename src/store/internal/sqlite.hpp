// The one checker for SQLite result codes.
#pragma once

#include <sqlite3.h>

#include <string_view>

#include "dojang/pki/result.hpp"

namespace dojang::store::internal {

// SQLITE_OK, SQLITE_ROW and SQLITE_DONE are success. Otherwise: UNIQUE or
// PRIMARY KEY constraint -> already_exists; NOTADB / CORRUPT -> invalid_input;
// anything else -> io. The message is "what: <sqlite message>" (db may be
// null, then the generic text of rc is used).
Status check(int rc, sqlite3* db, std::string_view what);

}  // namespace dojang::store::internal
