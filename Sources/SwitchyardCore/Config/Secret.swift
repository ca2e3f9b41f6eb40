/// A secret value (upstream key, user token). It prints as `***` wherever it is interpolated,
/// so it cannot leak into logs, errors or `check` output by accident.
public struct Secret: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible {
    /// The secret itself; read only where it is sent (the upstream Authorization header).
    public let exposedValue: String

    public init(_ value: String) { exposedValue = value }

    public var description: String { "***" }
    public var debugDescription: String { "***" }
}
