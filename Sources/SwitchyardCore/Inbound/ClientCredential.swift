import Foundation

/// The credential a client presents: `x-api-key`, else `Authorization: Bearer`. It identifies
/// the client to the gateway only and is never forwarded upstream.
public enum ClientCredential {
    public static func from(apiKey: String?, authorization: String?) -> Secret? {
        if let apiKey, !apiKey.isEmpty { return Secret(apiKey) }
        if let authorization, authorization.lowercased().hasPrefix("bearer ") {
            return Secret(String(authorization.dropFirst(7)).trimmingCharacters(in: .whitespaces))
        }
        return nil
    }
}
