#pragma once
// The standard webhook format (webhooks.md): the payment event payload, Standard Webhooks
// signatures (webhook-id, webhook-timestamp, webhook-signature), the ping event, and the
// retry schedule of TILLGATE_WEBHOOK_RETRY_S.
#include "webhooks/format.hpp"

namespace tillgate::webhooks {

class StandardWebhookFormat final : public WebhookFormat {
 public:
  explicit StandardWebhookFormat(std::vector<std::chrono::seconds> retry_schedule);

  [[nodiscard]] domain::WebhookFormat kind() const override {
    return domain::WebhookFormat::standard;
  }
  [[nodiscard]] std::optional<EventBody> event_body(
      const store::TransactionRecord& after, const store::DeviceRecord* terminal,
      const store::WebhookEventRecord& event) const override;
  [[nodiscard]] HeaderList sign(std::string_view secret, std::string_view event_id,
                                std::string_view body, domain::Timestamp sent_at) const override;
  [[nodiscard]] std::string ping_body(std::string_view event_id,
                                      domain::Timestamp at) const override;
  [[nodiscard]] const std::vector<std::chrono::seconds>& retry_schedule() const override {
    return retry_schedule_;
  }

 private:
  std::vector<std::chrono::seconds> retry_schedule_;
};

}  // namespace tillgate::webhooks
