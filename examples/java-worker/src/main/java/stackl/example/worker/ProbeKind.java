package stackl.example.worker;

import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * The built-in `probe` kind, served only with --also-probe: every broker knows it without a
 * registration, so the wire protocol can be tried on a prefix where no other worker runs.
 * `outcome: succeed` answers {"probe":"ok"}, anything else fails for good; other fields
 * (durationMs, rollback, ...) are ignored.
 */
final class ProbeKind implements Kind {
  private static final ObjectMapper JSON = new ObjectMapper();

  @Override
  public String name() {
    return "probe";
  }

  @Override
  public Outcome run(String action, String payload) throws Exception {
    String outcome = JSON.readTree(payload).path("outcome").asText();
    if (outcome.equals("succeed")) return new Outcome.Succeeded("{\"probe\":\"ok\"}");
    return new Outcome.Failed("probe outcome \"" + outcome + "\": failed as asked", false);
  }

  @Override
  public void rollback(String action, String payload) {
    // Nothing was changed, so there is nothing to undo.
  }
}
