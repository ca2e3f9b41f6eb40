import Foundation
import Logging

/// The usage ledger and the budgets of a running gateway: the store chosen by `state:`, the
/// batching writer in front of it and the spend per budget scope. Created once at start and kept
/// across reloads (a reload that changes a budget applies the new cap to the spend so far).
public final class Accounting: Sendable {
    /// Nil when `state.url: off` or the store could not be created.
    public let store: (any UsageStore)?
    public let ledger: LedgerWriter?
    public let budgets = BudgetBook()
    /// This replica's name in records.
    public let instance: String
    public let settings: StateSettings
    let metrics: Metrics
    let logger: Logger

    public init(settings: StateSettings, instance: String, metrics: Metrics, logger: Logger) {
        self.settings = settings
        self.instance = instance
        self.metrics = metrics
        self.logger = logger
        switch settings.backend {
        case .sqlite(let path):
            let store = SQLiteUsageStore(path: path)
            self.store = store
            ledger = LedgerWriter(store: store, metrics: metrics, logger: logger)
        case .postgres(let url):
            if let store = PostgresUsageStore(url: url) {
                self.store = store
                ledger = LedgerWriter(store: store, metrics: metrics, logger: logger)
            } else {
                store = nil
                ledger = nil
            }
        case .off:
            store = nil
            ledger = nil
        }
    }

    /// No ledger: records are not kept (tests and `state.url: off`).
    public static func disabled(metrics: Metrics = Metrics()) -> Accounting {
        Accounting(
            settings: StateSettings(backend: .off, retention: .seconds(86_400), flushInterval: .seconds(1)), instance: "",
            metrics: metrics, logger: Logger(label: "switchyard"))
    }

    /// Reads each budget scope's spend in its current period back from the store the first time
    /// it is used after start. A store that cannot answer leaves the scope at zero, logged.
    func prepare(_ scopes: [BudgetBook.Scope], now: Int64) async {
        for scope in scopes where budgets.needsLoading(scope.key) {
            let start = BudgetPeriods.start(scope.budget.period, now: now)
            var spent: Int64 = 0
            if let store {
                let (user, route) =
                    scope.key.hasPrefix("user:")
                    ? (String(scope.key.dropFirst(5)), nil as String?)
                    : (nil as String?, String(scope.key.dropFirst(6)))
                do {
                    spent = try await store.spend(user: user, route: route, sinceMs: start * 1000)
                } catch {
                    logger.error(
                        "budget: cannot read the spend of \(scope.label) from the store; counting from zero",
                        metadata: ["error": .string(String(describing: error))])
                }
            }
            budgets.load(scope.key, periodStart: start, spent: spent)
        }
    }
}
