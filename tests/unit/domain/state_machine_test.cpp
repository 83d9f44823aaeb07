#include "domain/transaction.hpp"

#include <gtest/gtest.h>

#include <array>
#include <map>
#include <set>
#include <string>

namespace tillgate::domain {
namespace {

using E = TransactionEvent;
using S = TransactionStatus;

constexpr std::array kStatuses{S::pending, S::awaiting_reconnect, S::completed,
                               S::failed,  S::cancelled,          S::timeout,
                               S::voided};
constexpr std::array kEvents{
    E::terminal_succeeded,    E::terminal_failed,      E::terminal_cancelled, E::terminal_abandoned,
    E::terminal_disconnected, E::terminal_reconnected, E::grace_expired,      E::cancel_requested};

struct Expected {
  Verdict verdict;
  S next;
  bool void_on_terminal = false;
};

Expected apply(S next) {
  return {Verdict::apply, next};
}
Expected unchanged(S self) {
  return {Verdict::unchanged, self};
}
Expected refuse(S self) {
  return {Verdict::refuse, self};
}

// merchant-api.md section 6 and terminal-protocol.md "Rules", written out pair by pair.
std::map<std::pair<S, E>, Expected> expected_table() {
  std::map<std::pair<S, E>, Expected> table;
  const auto row = [&](S s, std::array<Expected, kEvents.size()> answers) {
    for (std::size_t i = 0; i < kEvents.size(); ++i) {
      table.emplace(std::pair{s, kEvents[i]}, answers[i]);
    }
  };
  // Columns: succeeded, failed, cancelled, abandoned, disconnected, reconnected,
  // grace_expired, cancel.
  row(S::pending, {apply(S::completed), apply(S::failed), apply(S::cancelled), apply(S::timeout),
                   apply(S::awaiting_reconnect), unchanged(S::pending), apply(S::timeout),
                   unchanged(S::pending)});
  row(S::awaiting_reconnect,
      {apply(S::completed), apply(S::failed), apply(S::cancelled), apply(S::timeout),
       unchanged(S::awaiting_reconnect), apply(S::pending), apply(S::timeout),
       unchanged(S::awaiting_reconnect)});
  for (const S final_status : {S::completed, S::failed, S::cancelled, S::voided}) {
    row(final_status, {unchanged(final_status), unchanged(final_status), unchanged(final_status),
                       unchanged(final_status), unchanged(final_status), unchanged(final_status),
                       unchanged(final_status), refuse(final_status)});
  }
  row(S::timeout, {Expected{Verdict::apply, S::voided, true}, unchanged(S::timeout),
                   unchanged(S::timeout), unchanged(S::timeout), unchanged(S::timeout),
                   unchanged(S::timeout), unchanged(S::timeout), refuse(S::timeout)});
  return table;
}

std::string name(Verdict verdict) {
  switch (verdict) {
    case Verdict::apply:
      return "apply";
    case Verdict::unchanged:
      return "unchanged";
    case Verdict::refuse:
      return "refuse";
  }
  return "?";
}

TEST(StateMachine, AnswersEveryStatusEventPairAsSpecified) {
  const auto table = expected_table();
  ASSERT_EQ(table.size(), kStatuses.size() * kEvents.size());
  for (const S status : kStatuses) {
    for (const E event : kEvents) {
      const Expected& want = table.at({status, event});
      const Transition got = decide(status, event);
      SCOPED_TRACE(std::string(to_string(status)) + " + " + std::string(to_string(event)));
      EXPECT_EQ(name(got.verdict), name(want.verdict));
      EXPECT_EQ(to_string(got.next), to_string(want.next));
      EXPECT_EQ(got.void_on_terminal, want.void_on_terminal);
    }
  }
}

TEST(StateMachine, NextIsCurrentUnlessApplied) {
  for (const S status : kStatuses) {
    for (const E event : kEvents) {
      const Transition t = decide(status, event);
      if (t.verdict != Verdict::apply) {
        EXPECT_EQ(t.next, status) << to_string(status) << " " << to_string(event);
        EXPECT_FALSE(t.void_on_terminal);
      } else {
        EXPECT_NE(t.next, status) << to_string(status) << " " << to_string(event);
      }
    }
  }
}

TEST(StateMachine, FinalStatusesNeverChangeExceptTimeoutToVoided) {
  for (const S status : kStatuses) {
    if (!is_final(status)) {
      continue;
    }
    for (const E event : kEvents) {
      const Transition t = decide(status, event);
      if (status == S::timeout && event == E::terminal_succeeded) {
        EXPECT_EQ(t.verdict, Verdict::apply);
        EXPECT_EQ(t.next, S::voided);
        EXPECT_TRUE(t.void_on_terminal);
        continue;
      }
      EXPECT_NE(t.verdict, Verdict::apply) << to_string(status) << " " << to_string(event);
      EXPECT_EQ(t.next, status);
    }
  }
}

TEST(StateMachine, OnlyTheVoidTransitionAsksTheTerminalToReverse) {
  int voids = 0;
  for (const S status : kStatuses) {
    for (const E event : kEvents) {
      voids += decide(status, event).void_on_terminal ? 1 : 0;
    }
  }
  EXPECT_EQ(voids, 1);
}

TEST(StateMachine, CancelOfAFinalTransactionIsRefusedAndOfAnOpenOneWaitsForTheTerminal) {
  for (const S status : kStatuses) {
    const Transition t = decide(status, E::cancel_requested);
    EXPECT_EQ(t.verdict, is_final(status) ? Verdict::refuse : Verdict::unchanged)
        << to_string(status);
  }
}

TEST(TransactionEventNames, AreSnakeCaseAndDistinct) {
  EXPECT_EQ(to_string(E::terminal_succeeded), "terminal_succeeded");
  EXPECT_EQ(to_string(E::terminal_failed), "terminal_failed");
  EXPECT_EQ(to_string(E::terminal_cancelled), "terminal_cancelled");
  EXPECT_EQ(to_string(E::terminal_abandoned), "terminal_abandoned");
  EXPECT_EQ(to_string(E::terminal_disconnected), "terminal_disconnected");
  EXPECT_EQ(to_string(E::terminal_reconnected), "terminal_reconnected");
  EXPECT_EQ(to_string(E::grace_expired), "grace_expired");
  EXPECT_EQ(to_string(E::cancel_requested), "cancel_requested");
  std::set<std::string_view> names;
  for (const E event : kEvents) {
    names.insert(to_string(event));
  }
  EXPECT_EQ(names.size(), kEvents.size());
}

TEST(TransactionStatusNames, RoundTripAndMapCompletedToSuccess) {
  for (const S status : kStatuses) {
    EXPECT_EQ(parse_transaction_status(to_string(status)), status);
  }
  EXPECT_EQ(to_string(S::awaiting_reconnect), "AWAITING_RECONNECT");
  EXPECT_EQ(parse_transaction_status("pending"), std::nullopt);
  EXPECT_EQ(parse_transaction_status(""), std::nullopt);
  EXPECT_EQ(payment_status_name(S::completed), "SUCCESS");
  EXPECT_EQ(payment_status_name(S::failed), "FAILED");
  EXPECT_EQ(payment_status_name(S::timeout), "TIMEOUT");
  EXPECT_FALSE(is_final(S::pending));
  EXPECT_FALSE(is_final(S::awaiting_reconnect));
}

}  // namespace
}  // namespace tillgate::domain
