import Crypto
import SwitchyardWire

/// Resolves a client token to a user, compiled once per snapshot from `users`. Tokens are hashed
/// with SHA-256 and compared against every user's hash in constant time (no early exit), so
/// timing reveals neither a token nor which user is close.
public struct Authenticator: Sendable {
    public let mode: AuthMode
    private let users: [User]

    public init(mode: AuthMode, users: [User]) {
        self.mode = mode
        self.users = users
    }

    public enum Outcome: Sendable {
        case open
        case user(User)
        case rejected(String)
    }

    public func authenticate(_ credential: Secret?) -> Outcome {
        guard mode == .tokens else { return .open }
        guard let credential, !credential.exposedValue.isEmpty else {
            return .rejected("missing credential: send your Switchyard token as x-api-key or Authorization: Bearer")
        }
        let digest = Self.digest(credential.exposedValue)
        var found: User? = nil
        for user in users where Self.constantTimeEquals(digest, user.tokenSHA256) {
            found = user
        }
        guard let found else { return .rejected("invalid x-api-key") }
        return .user(found)
    }

    /// Whether `text` is one of the configured users' tokens (so it can be kept out of echoes).
    public func isToken(_ text: String) -> Bool {
        guard mode == .tokens, !users.isEmpty, text.count >= 8 else { return false }
        let digest = Self.digest(text)
        return users.contains { Self.constantTimeEquals(digest, $0.tokenSHA256) }
    }

    /// The SHA-256 of a token: every token hash of the gateway (config, `token new`, requests) is
    /// taken here, with swift-crypto. (SwitchyardWire's own SHA-256 derives non-secret names only:
    /// tool aliases, user ids sent upstream, the config's content hash.)
    public static func digest(_ token: String) -> [UInt8] {
        Array(SHA256.hash(data: Array(token.utf8)))
    }

    /// Compares two byte arrays without an early exit.
    public static func constantTimeEquals(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for i in 0..<a.count { difference |= a[i] ^ b[i] }
        return difference == 0
    }
}
