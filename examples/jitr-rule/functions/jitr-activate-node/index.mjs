// The JITR activation function of AWS's walkthrough ("Just-in-time
// registration of device certificates on AWS IoT"), ported to the AWS SDK
// for JavaScript v3. A topic rule on
// $aws/events/certificates/registered/<caCertificateId> calls it with the
// registration event; it creates a policy for the device, attaches it to the
// certificate and activates the certificate. It runs unchanged on AWS Lambda
// and under iotcore (which gives it AWS_REGION and AWS_ENDPOINT_URL).
import {
  IoTClient,
  CreatePolicyCommand,
  AttachPolicyCommand,
  UpdateCertificateCommand,
  ResourceAlreadyExistsException,
} from "@aws-sdk/client-iot";

const iot = new IoTClient({});

export const handler = async (event) => {
  const region = process.env.AWS_REGION;
  const accountId = event.awsAccountId.toString().trim();
  const certificateId = event.certificateId.toString().trim();
  const topicName = `foo/bar/${certificateId}`;
  const certificateARN = `arn:aws:iot:${region}:${accountId}:cert/${certificateId}`;
  const policyName = `Policy_${certificateId}`;
  const policy = {
    Version: "2012-10-17",
    Statement: [
      { Effect: "Allow", Action: ["iot:Connect"], Resource: `arn:aws:iot:${region}:${accountId}:client/${certificateId}` },
      { Effect: "Allow", Action: ["iot:Publish", "iot:Receive"], Resource: `arn:aws:iot:${region}:${accountId}:topic/${topicName}` },
      { Effect: "Allow", Action: ["iot:Subscribe"], Resource: `arn:aws:iot:${region}:${accountId}:topicfilter/${topicName}` },
    ],
  };
  try {
    await iot.send(new CreatePolicyCommand({ policyName, policyDocument: JSON.stringify(policy) }));
  } catch (err) {
    if (!(err instanceof ResourceAlreadyExistsException)) throw err;
  }
  await iot.send(new AttachPolicyCommand({ policyName, target: certificateARN }));
  await iot.send(new UpdateCertificateCommand({ certificateId, newStatus: "ACTIVE" }));
  console.log(`activated ${certificateId} with ${policyName}`);
  return { certificateId, policyName };
};
