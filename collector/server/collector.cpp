// SPDX-License-Identifier: Apache-2.0
// The collector's composition root: TLS, the router with its role table and authenticators, the
// units behind it (health and metrics, the device API, the staff API, the staff console), the
// policy feed and the inbox feed, the retention job, and the HTTP/TLS server they all answer
// through (internal/http_server.h).
#include "ward/collector/server/collector.h"

#include <openssl/ssl.h>

#include <atomic>

#include "internal/access.h"
#include "internal/authenticators.h"
#include "internal/console_api.h"
#include "internal/console_session.h"
#include "internal/device_api.h"
#include "internal/http_server.h"
#include "internal/inbox_feed.h"
#include "internal/metrics.h"
#include "internal/ops_api.h"
#include "internal/policy_feed.h"
#include "internal/retention.h"
#include "internal/router.h"
#include "internal/staff_api.h"
#include "internal/subject_api.h"
#include "ward/collector/server/tls.h"
#include "ward/common/log.h"

namespace ward::collector {
namespace {

struct SslCtxFree {
  void operator()(SSL_CTX* ctx) const { SSL_CTX_free(ctx); }
};

class CollectorImpl final : public Collector {
 public:
  CollectorImpl(const CollectorOptions& options, Storage& storage, ConcernAlerter& alerter,
                const Clock& clock)
      : options_(options),
        storage_(storage),
        policies_(
            storage, clock, options.long_poll_max,
            [this](const std::string& group, std::uint64_t version, internal::HttpResponse answer) {
              if (internal::HttpServer* server = live_server_.load()) {
                server->Publish(group, version, std::move(answer));
              }
            }),
        inbox_(
            storage, alerter, clock, options.long_poll_max,
            [this](const std::string& key, std::uint64_t version, internal::HttpResponse answer) {
              if (internal::HttpServer* server = live_server_.load()) {
                server->Publish(key, version, std::move(answer));
              }
            }),
        device_auth_(storage),
        router_(internal::AccessTable(), &device_auth_),
        ops_(storage, alerter, metrics_,
             [this] {
               internal::HttpServer* server = live_server_.load();
               return server != nullptr ? server->Stats() : internal::HttpServerStats{};
             }),
        // The device API tells the inbox feed of each new concern; it passes them on to `alerter`.
        device_(options_, storage, inbox_, policies_, metrics_, clock),
        staff_(options_, storage, policies_, metrics_, clock),
        subject_(storage, clock),
        console_(options_, storage, clock),
        retention_(storage, clock, metrics_,
                   {.limits = options.retention,
                    .interval = options.retention_interval,
                    .batch_rows = options.retention_batch_rows,
                    .pause = options.retention_pause}),
        clock_(clock) {}

  ~CollectorImpl() override { Stop(); }

  Status Start() {
    WARD_ASSIGN_OR_RETURN(SSL_CTX * tls, NewServerTlsContext(options_.tls_cert, options_.tls_key));
    tls_.reset(tls);
    router_.AddStaffAuthenticator(std::make_unique<internal::BearerStaffAuthenticator>(storage_));
    const SessionLimits limits{options_.console_idle.count() * 1000,
                               options_.console_session_max.count() * 1000};
    router_.AddStaffAuthenticator(
        std::make_unique<internal::SessionStaffAuthenticator>(storage_, limits, clock_));
    WARD_RETURN_IF_ERROR(console_.Load());
    WARD_RETURN_IF_ERROR(ops_.Register(router_));
    WARD_RETURN_IF_ERROR(device_.Register(router_));
    WARD_RETURN_IF_ERROR(staff_.Register(router_));
    WARD_RETURN_IF_ERROR(subject_.Register(router_));
    WARD_RETURN_IF_ERROR(inbox_.Register(router_));
    WARD_RETURN_IF_ERROR(console_.Register(router_));
    WARD_RETURN_IF_ERROR(router_.CheckComplete());
    router_.SetObserver(
        [this](std::string_view endpoint, int status) { metrics_.CountRequest(endpoint, status); });

    internal::HttpServerOptions http;
    http.address = options_.listen_address;
    http.port = options_.port;
    http.max_body_bytes = options_.max_body_bytes;
    http.worker_threads = options_.worker_threads;
    http.max_connections = options_.max_connections;
    http.max_connections_per_address = options_.max_connections_per_address;
    WARD_ASSIGN_OR_RETURN(
        server_, internal::HttpServer::Start(http, tls_.get(), [this](const HttpRequest& r) {
          internal::HandlerResult result = router_.Dispatch(r);
          console_.Secure(r, result);
          return result;
        }));
    live_server_.store(server_.get());
    // After the server exists: a notification may arrive at once and wakes its waiters.
    WARD_RETURN_IF_ERROR(policies_.Start());
    WARD_RETURN_IF_ERROR(inbox_.Start());
    if (options_.retention_interval.count() > 0) {
      retention_.Start();
    }
    log::Info("collector listening", {{"address", options_.listen_address},
                                      {"port", static_cast<int>(server_->port())},
                                      {"shared_store", policies_.shared()}});
    return OkStatus();
  }

  std::uint16_t port() const override { return server_->port(); }

  void Stop() override {
    retention_.Stop();
    policies_.Stop();
    inbox_.Stop();
    if (server_) {
      server_->Stop();
    }
    tls_.reset();
  }

 private:
  // Declaration order is construction order: the units refer to what is declared above them.
  const CollectorOptions options_;
  Storage& storage_;
  internal::Metrics metrics_;
  std::atomic<internal::HttpServer*> live_server_{nullptr};
  internal::PolicyFeed policies_;
  internal::InboxFeed inbox_;
  internal::CredentialDeviceAuthenticator device_auth_;
  internal::Router router_;
  internal::OpsApi ops_;
  internal::DeviceApi device_;
  internal::StaffApi staff_;
  internal::SubjectApi subject_;
  internal::ConsoleApi console_;
  internal::RetentionJob retention_;
  const Clock& clock_;
  std::unique_ptr<SSL_CTX, SslCtxFree> tls_;
  std::unique_ptr<internal::HttpServer> server_;
};

}  // namespace

Result<std::unique_ptr<Collector>> Collector::Start(const CollectorOptions& options,
                                                    Storage& storage, ConcernAlerter& alerter,
                                                    const Clock& clock) {
  auto c = std::make_unique<CollectorImpl>(options, storage, alerter, clock);
  WARD_RETURN_IF_ERROR(c->Start());
  return std::unique_ptr<Collector>(std::move(c));
}

}  // namespace ward::collector
