import Crypto
import SwitchyardWire

/// User tokens: `sy-` + 32 base62 characters (about 190 bits from the system CSPRNG), stored in
/// the config only as their SHA-256.
public enum TokenFactory {
    public static func make() -> String {
        Identifiers.make(prefix: "sy-") + String(Identifiers.make(prefix: "").prefix(8))
    }

    public static func hash(_ token: String) -> String {
        SHA256Digest.hexString(Array(SHA256.hash(data: Array(token.utf8))))
    }
}
