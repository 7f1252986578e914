// The "bank" module's schema migrations.
#pragma once

#include <span>

#include "dojang/store/database.hpp"

namespace dojang::store::internal {

inline constexpr std::string_view kBankModule = "bank";

std::span<const Migration> bank_migrations() noexcept;

}  // namespace dojang::store::internal
