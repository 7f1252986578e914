// Time is a parameter: code that needs "now" takes a Clock&.
#pragma once

#include <chrono>

namespace dojang {

using TimePoint = std::chrono::system_clock::time_point;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimePoint now() const = 0;
};

class SystemClock final : public Clock {
 public:
  TimePoint now() const override { return std::chrono::system_clock::now(); }
  // The process-wide real clock.
  static const SystemClock& instance();
};

// A clock that stays where it is set; for tests.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(TimePoint t) : t_(t) {}
  TimePoint now() const override { return t_; }
  void set(TimePoint t) { t_ = t; }
  void advance(std::chrono::seconds d) { t_ += d; }

 private:
  TimePoint t_;
};

}  // namespace dojang
