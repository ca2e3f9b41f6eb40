/// The embedded default config (config.md "Embedded default"): OpenRouter keyed by
/// `OPENROUTER_API_KEY`, open auth, `127.0.0.1:${PROXY_PORT:-8000}`, the seed's model table with
/// one free-model fallback per route. `config/switchyard.yaml` ships the same routes, commented.
public enum DefaultConfig {
    public static let yaml = """
        # Switchyard embedded default (printed by `switchyard check --print-default`).
        server:
          listen: 127.0.0.1:${PROXY_PORT:-8000}
        providers:
          openrouter:
            kind: openai
            dialect: openrouter
            base_url: https://openrouter.ai/api/v1
            api_key: ${OPENROUTER_API_KEY}
            headers:
              X-Title: Switchyard
        routes:
          - name: sonnet-4-5
            match: { models: ["claude-sonnet-4-5-20250929"] }
            targets:
              - { provider: openrouter, model: "openai/gpt-oss-120b:free" }
              - { provider: openrouter, model: "moonshotai/kimi-k2:free" }
          - name: haiku-4-5
            match: { models: ["claude-haiku-4-5-20251001"] }
            targets:
              - { provider: openrouter, model: "openai/gpt-oss-120b:free" }
              - { provider: openrouter, model: "openai/gpt-oss-20b:free" }
          - name: sonnet
            match: { models: ["claude-sonnet", "claude-sonnet-*", "claude-3-5-sonnet*"] }
            targets:
              - { provider: openrouter, model: "openai/gpt-oss-120b:free" }
              - { provider: openrouter, model: "moonshotai/kimi-k2:free" }
          - name: opus
            match: { models: ["claude-opus", "claude-opus-*"] }
            targets:
              - { provider: openrouter, model: "openai/gpt-oss-20b:free" }
              - { provider: openrouter, model: "openai/gpt-oss-120b:free" }
          - name: haiku
            match: { models: ["claude-haiku", "claude-haiku-*"] }
            targets:
              - { provider: openrouter, model: "moonshotai/kimi-k2:free" }
              - { provider: openrouter, model: "openai/gpt-oss-20b:free" }
          - name: default
            match: { models: ["*"] }
            targets:
              - { provider: openrouter, model: "openai/gpt-oss-120b:free" }
              - { provider: openrouter, model: "openai/gpt-oss-20b:free" }
        auth:
          mode: open
        """
}
