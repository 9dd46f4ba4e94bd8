package stackl.example.worker;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;

/**
 * `java-checksum`, action `run`: the SHA-256 of `text` (its UTF-8 bytes, in hex) and its
 * length in Unicode code points (what JSON Schema's maxLength counts). `fail: true` makes the
 * attempt fail for good, to show a failed task being rolled back. Nothing is changed anywhere,
 * so the rollback has nothing to undo and trivially is idempotent.
 */
final class ChecksumKind implements Kind {
  static final String NAME = "java-checksum";
  private static final ObjectMapper JSON = new ObjectMapper();

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public Outcome run(String action, String payload) throws Exception {
    if (!action.equals("run")) return new Outcome.Failed("java-checksum has no action " + action, false);
    // The broker checked the payload against the registered schema; this only guards against
    // a producer that bypassed it, and fails rather than guess.
    JsonNode input = JSON.readTree(payload);
    JsonNode text = input.get("text");
    if (text == null || !text.isTextual()) return new Outcome.Failed("payload needs a string \"text\"", false);
    if (input.path("fail").asBoolean(false)) return new Outcome.Failed("failed as asked (payload.fail is true)", false);
    byte[] digest = MessageDigest.getInstance("SHA-256").digest(text.asText().getBytes(StandardCharsets.UTF_8));
    ObjectNode output = JSON.createObjectNode();
    output.put("sha256", HexFormat.of().formatHex(digest));
    output.put("length", text.asText().codePointCount(0, text.asText().length()));
    return new Outcome.Succeeded(JSON.writeValueAsString(output));
  }

  @Override
  public void rollback(String action, String payload) {
    // Nothing was changed, so there is nothing to undo.
  }
}
