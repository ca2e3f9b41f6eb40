/// Every key the loader accepts, by section path. The loader reads its allow-lists from here and
/// `switchyard check --list-keys` prints them, so a test can hold the JSON Schema to the same set.
public enum ConfigKeys {
    public static let top: Set<String> = [
        "server", "providers", "routes", "fallback", "auth", "users", "limits", "translation", "pipeline", "logging", "state",
    ]
    public static let server: Set<String> = [
        "listen", "max_body_bytes", "max_header_bytes", "read_timeout", "max_connections", "metrics_listen", "admin_listen", "instance", "shutdown_grace",
        "models_show_targets",
    ]
    public static let provider: Set<String> = [
        "kind", "dialect", "base_url", "api_key", "headers", "timeouts", "max_connections", "max_response_bytes", "cost", "prices",
    ]
    public static let timeouts: Set<String> = ["connect", "first_byte", "idle"]
    public static let route: Set<String> = ["name", "match", "targets", "limits", "advertise"]
    public static let match: Set<String> = ["models", "thinking", "min_input_tokens"]
    public static let target: Set<String> = ["provider", "model", "api_key", "max_tokens"]
    public static let limits: Set<String> = ["rpm", "tpm", "concurrent", "budget"]
    public static let budget: Set<String> = ["usd", "period", "warn_at"]
    public static let price: Set<String> = ["input", "output", "cache_read", "cache_write"]
    public static let state: Set<String> = ["url", "retention", "flush_interval", "pool", "unavailable"]
    public static let fallback: Set<String> = ["on", "retries_per_target", "cooldown"]
    public static let auth: Set<String> = ["mode"]
    public static let user: Set<String> = ["name", "token_sha256", "token", "routes", "limits", "admin"]
    public static let limitDefaults: Set<String> = ["per_user"]
    public static let translation: Set<String> = ["strip_billing_header", "reasoning_content"]
    public static let logging: Set<String> = ["level", "format", "access_log", "verbose"]
    public static let fileSecret: Set<String> = ["file"]

    /// Section path → accepted keys (`*` a map entry, `[]` a list element).
    public static let all: [(path: String, keys: Set<String>)] = [
        ("", top), ("server", server), ("providers.*", provider), ("providers.*.timeouts", timeouts),
        ("providers.*.prices.*", price),
        ("routes[]", route), ("routes[].match", match), ("routes[].targets[]", target), ("routes[].limits", limits), ("routes[].limits.budget", budget),
        ("fallback", fallback), ("auth", auth), ("users[]", user), ("users[].limits", limits), ("users[].limits.budget", budget),
        ("limits", limitDefaults), ("limits.per_user", limits), ("limits.per_user.budget", budget), ("state", state), ("translation", translation),
        ("logging", logging),
    ]
}
