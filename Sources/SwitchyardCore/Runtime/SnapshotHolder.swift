import NIOConcurrencyHelpers

/// The swappable reference to the current snapshot: one atomic replacement per reload.
public final class SnapshotHolder: Sendable {
    private let box: NIOLockedValueBox<GatewaySnapshot>

    public init(_ snapshot: GatewaySnapshot) {
        box = NIOLockedValueBox(snapshot)
    }

    public var current: GatewaySnapshot { box.withLockedValue { $0 } }

    public func swap(_ snapshot: GatewaySnapshot) {
        box.withLockedValue { $0 = snapshot }
    }
}
