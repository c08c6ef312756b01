/* The hvsocket service id of hcs-sandbox's guest agent: the one place it is
 * written. The agent binds {HV_GUID_WILDCARD, AGENT_SERVICE_ID} in the guest,
 * the host dials {RuntimeId, AGENT_SERVICE_ID}, and the VM document's HvSocket
 * ServiceTable names it: src/schema/builders/agent-service-id.ts is generated
 * from this line by scripts/gen-agent-service-id.mjs (a unit test checks the
 * two agree). Changing it breaks every image built before. */
#define AGENT_SERVICE_ID_TEXT "2df08d06-b061-491a-bff5-58fe2abfdc2a"
