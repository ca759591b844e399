// SPDX-License-Identifier: Apache-2.0
#include "internal/ops_api.h"

namespace ward::collector::internal {

OpsApi::OpsApi(Storage& storage, ConcernAlerter& alerter, Metrics& metrics,
               std::function<HttpServerStats()> server_stats)
    : storage_(storage),
      alerter_(alerter),
      metrics_(metrics),
      server_stats_(std::move(server_stats)) {}

Status OpsApi::Register(Router& router) {
  WARD_RETURN_IF_ERROR(
      router.Add(Route{"GET", "/healthz", 0, ErrorStyle::kText,
                       PublicHandler([this](const Call& c) { return Healthz(c); })}));
  return router.Add(Route{"GET", "/metrics", 0, ErrorStyle::kText,
                          StaffHandler([this](const Call& c, const StaffPrincipal& who) {
                            return MetricsText(c, who);
                          })});
}

HandlerResult OpsApi::Healthz(const Call& /*call*/) {
  HttpResponse r;
  r.content_type = "text/plain; charset=utf-8";
  auto groups = storage_.ListGroups();
  if (!groups.has_value()) {
    r.status = 503;
    r.body = "store unavailable: " + groups.error().message() + "\n";
    return r;
  }
  r.body = "ok\n";
  return r;
}

HandlerResult OpsApi::MetricsText(const Call& /*call*/, const StaffPrincipal& /*who*/) {
  HttpResponse r;
  r.content_type = "text/plain; version=0.0.4";
  const HttpServerStats stats = server_stats_();
  r.body = metrics_.Render(stats.connections_open, stats.parked, stats.handshake_failures) +
           alerter_.MetricsText();
  return r;
}

}  // namespace ward::collector::internal
