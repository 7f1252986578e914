// Errors of a multi-step flow (issuance, renewal, revocation) say the step
// they happened in: "certificate request: refused by the CMP server: ...".
#pragma once

#include <string>
#include <utility>

#include "dojang/pki/result.hpp"

namespace dojang::wallet::internal {

// Prefixes an error with the step it happened in.
inline Error at_step(const char* step, Error e) {
  e.message = std::string(step) + ": " + e.message;
  return e;
}

}  // namespace dojang::wallet::internal

// Like DOJANG_TRY / DOJANG_ASSIGN, naming the step (a const char*) in the error.
#define DOJANG_STEP_TRY(step_name, expr)                                            \
  do {                                                                              \
    auto&& step_try_r_ = (expr);                                                    \
    if (!step_try_r_.ok())                                                          \
      return ::dojang::wallet::internal::at_step((step_name), step_try_r_.error()); \
  } while (0)
#define DOJANG_STEP_ASSIGN(step_name, decl, expr) \
  DOJANG_STEP_ASSIGN_IMPL_(DOJANG_CONCAT_(step_r_, __LINE__), step_name, decl, expr)
#define DOJANG_STEP_ASSIGN_IMPL_(tmp, step_name, decl, expr)                                 \
  auto tmp = (expr);                                                                         \
  if (!tmp.ok()) return ::dojang::wallet::internal::at_step((step_name), std::move(tmp).error()); \
  decl = std::move(tmp).value()
