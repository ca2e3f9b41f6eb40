import SwitchyardWire

/// User tokens: `sy-` + 32 base62 characters (about 190 bits from the system CSPRNG), stored in
/// the config only as their SHA-256.
public enum TokenFactory {
    public static func make() -> String {
        Identifiers.make(prefix: "sy-") + String(Identifiers.make(prefix: "").prefix(8))
    }

    public static func hash(_ token: String) -> String {
        SHA256Digest.hexString(Authenticator.digest(token))
    }
}

/// User names: 1–64 letters, digits and `._@-`, not starting with `-`. They appear in YAML the
/// gateway suggests, in log lines and in metric labels, so nothing that could break out of any of
/// those is allowed.
public enum UserName {
    public static let maxLength = 64
    public static let rule = "1–64 letters, digits, '.', '_', '@' or '-', not starting with '-'"

    public static func isValid(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard !bytes.isEmpty, bytes.count <= maxLength, bytes[0] != UInt8(ascii: "-") else { return false }
        return bytes.allSatisfy { b in
            (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A)
                || b == UInt8(ascii: ".") || b == UInt8(ascii: "_") || b == UInt8(ascii: "@") || b == UInt8(ascii: "-")
        }
    }
}
