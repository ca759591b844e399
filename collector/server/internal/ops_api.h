// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <functional>

#include "internal/http_server.h"
#include "internal/metrics.h"
#include "internal/router.h"
#include "ward/collector/server/concern_alerter.h"
#include "ward/collector/storage/storage.h"

namespace ward::collector::internal {

// Health and metrics for the people who run the collector: GET /healthz (public, for load
// balancers; says nothing but whether the store answers) and GET /metrics (Prometheus text,
// behind a `metrics` or `it` token: it counts concerns as they arrive). Thread-safe; everything
// passed in must outlive it.
class OpsApi {
 public:
  // `server_stats` reports the HTTP server's connection counts.
  OpsApi(Storage& storage, ConcernAlerter& alerter, Metrics& metrics,
         std::function<HttpServerStats()> server_stats);

  // Adds GET /healthz and GET /metrics.
  Status Register(Router& router);

 private:
  HandlerResult Healthz(const Call& call);
  HandlerResult MetricsText(const Call& call, const StaffPrincipal& who);

  Storage& storage_;
  ConcernAlerter& alerter_;
  Metrics& metrics_;
  const std::function<HttpServerStats()> server_stats_;
};

}  // namespace ward::collector::internal
