/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Process-wide limits per provider, shared by every genvideosrc: at most
 * max-concurrent jobs in flight (from submission until the result is
 * downloaded) and starts spaced by a stagger (seed 002 was throttled by
 * four simultaneous starts). Waiting for a slot or a start is interrupted
 * by the element's cancellable.
 */
#pragma once

#include "http-client.h"

#include <chrono>
#include <string>

namespace reelforge::gen {

/* Holds one slot of a provider; gives it back when destroyed. */
class ProviderSlot {
 public:
  ProviderSlot() = default;
  explicit ProviderSlot(std::string provider) : provider_(std::move(provider)) {}
  ~ProviderSlot();
  ProviderSlot(ProviderSlot &&other) noexcept : provider_(std::move(other.provider_)) {
    other.provider_.clear();
  }
  ProviderSlot &operator=(ProviderSlot &&) = delete;
  ProviderSlot(const ProviderSlot &) = delete;

 private:
  std::string provider_;
};

/* Waits until provider has fewer than max_concurrent jobs in flight and its
 * next start time (stagger after the previous start) has come. Throws
 * http::Cancelled when client is cancelled meanwhile. */
ProviderSlot acquire_provider_slot(const std::string &provider, int max_concurrent,
                                   std::chrono::milliseconds stagger, http::HttpClient &client);

/* Jobs of provider in flight in this process now. */
int provider_jobs_in_flight(const std::string &provider);

}  // namespace reelforge::gen
