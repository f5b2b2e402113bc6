package awsapi

import "golang.org/x/sync/semaphore"

// routes lists every operation served, with the method and request URI of the
// botocore model; TestRoutesMatchModel checks them.
func routes() []route {
	return []route{
		{Op: "GetRegistrationCode", Method: "GET", Pattern: "/registrationcode", handle: getRegistrationCode},
		{Op: "DeleteRegistrationCode", Method: "DELETE", Pattern: "/registrationcode", handle: deleteRegistrationCode},

		{Op: "RegisterCACertificate", Method: "POST", Pattern: "/cacertificate", handle: registerCACertificate},
		{Op: "UpdateCACertificate", Method: "PUT", Pattern: "/cacertificate/{caCertificateId}", handle: updateCACertificate},
		{Op: "DescribeCACertificate", Method: "GET", Pattern: "/cacertificate/{caCertificateId}", handle: describeCACertificate},
		{Op: "ListCACertificates", Method: "GET", Pattern: "/cacertificates", handle: listCACertificates},
		{Op: "DeleteCACertificate", Method: "DELETE", Pattern: "/cacertificate/{caCertificateId}", handle: deleteCACertificate},

		{Op: "RegisterCertificate", Method: "POST", Pattern: "/certificate/register", handle: registerCertificate},
		{Op: "RegisterCertificateWithoutCA", Method: "POST", Pattern: "/certificate/register-no-ca", handle: registerCertificateWithoutCA},
		{Op: "UpdateCertificate", Method: "PUT", Pattern: "/certificates/{certificateId}", handle: updateCertificate},
		{Op: "DescribeCertificate", Method: "GET", Pattern: "/certificates/{certificateId}", handle: describeCertificate},
		{Op: "ListCertificates", Method: "GET", Pattern: "/certificates", handle: listCertificates},
		{Op: "ListCertificatesByCA", Method: "GET", Pattern: "/certificates-by-ca/{caCertificateId}", handle: listCertificatesByCA},
		{Op: "DeleteCertificate", Method: "DELETE", Pattern: "/certificates/{certificateId}", handle: deleteCertificate},
		{Op: "CreateKeysAndCertificate", Method: "POST", Pattern: "/keys-and-certificate", handle: createKeysAndCertificate},
		{Op: "CreateCertificateFromCsr", Method: "POST", Pattern: "/certificates", handle: createCertificateFromCsr},

		{Op: "CreatePolicy", Method: "POST", Pattern: "/policies/{policyName}", handle: createPolicy},
		{Op: "GetPolicy", Method: "GET", Pattern: "/policies/{policyName}", handle: getPolicy},
		{Op: "ListPolicies", Method: "GET", Pattern: "/policies", handle: listPolicies},
		{Op: "DeletePolicy", Method: "DELETE", Pattern: "/policies/{policyName}", handle: deletePolicy},
		{Op: "CreatePolicyVersion", Method: "POST", Pattern: "/policies/{policyName}/version", handle: createPolicyVersion},
		{Op: "GetPolicyVersion", Method: "GET", Pattern: "/policies/{policyName}/version/{policyVersionId}", handle: getPolicyVersion},
		{Op: "ListPolicyVersions", Method: "GET", Pattern: "/policies/{policyName}/version", handle: listPolicyVersions},
		{Op: "DeletePolicyVersion", Method: "DELETE", Pattern: "/policies/{policyName}/version/{policyVersionId}", handle: deletePolicyVersion},
		{Op: "SetDefaultPolicyVersion", Method: "PATCH", Pattern: "/policies/{policyName}/version/{policyVersionId}", handle: setDefaultPolicyVersion},
		{Op: "AttachPolicy", Method: "PUT", Pattern: "/target-policies/{policyName}", handle: attachPolicy},
		{Op: "DetachPolicy", Method: "POST", Pattern: "/target-policies/{policyName}", handle: detachPolicy},
		{Op: "ListAttachedPolicies", Method: "POST", Pattern: "/attached-policies/{target}", handle: listAttachedPolicies},
		{Op: "ListTargetsForPolicy", Method: "POST", Pattern: "/policy-targets/{policyName}", handle: listTargetsForPolicy},
		{Op: "AttachPrincipalPolicy", Method: "PUT", Pattern: "/principal-policies/{policyName}", handle: attachPrincipalPolicy},
		{Op: "DetachPrincipalPolicy", Method: "DELETE", Pattern: "/principal-policies/{policyName}", handle: detachPrincipalPolicy},
		{Op: "ListPrincipalPolicies", Method: "GET", Pattern: "/principal-policies", handle: listPrincipalPolicies},
		{Op: "ListPolicyPrincipals", Method: "GET", Pattern: "/policy-principals", handle: listPolicyPrincipals},

		{Op: "CreateThing", Method: "POST", Pattern: "/things/{thingName}", handle: createThing},
		{Op: "DescribeThing", Method: "GET", Pattern: "/things/{thingName}", handle: describeThing},
		{Op: "ListThings", Method: "GET", Pattern: "/things", handle: listThings},
		{Op: "UpdateThing", Method: "PATCH", Pattern: "/things/{thingName}", handle: updateThing},
		{Op: "DeleteThing", Method: "DELETE", Pattern: "/things/{thingName}", handle: deleteThing},

		{Op: "CreateThingType", Method: "POST", Pattern: "/thing-types/{thingTypeName}", handle: createThingType},
		{Op: "DescribeThingType", Method: "GET", Pattern: "/thing-types/{thingTypeName}", handle: describeThingType},
		{Op: "ListThingTypes", Method: "GET", Pattern: "/thing-types", handle: listThingTypes},
		{Op: "UpdateThingType", Method: "PATCH", Pattern: "/thing-types/{thingTypeName}", handle: updateThingType},
		{Op: "DeprecateThingType", Method: "POST", Pattern: "/thing-types/{thingTypeName}/deprecate", handle: deprecateThingType},
		{Op: "DeleteThingType", Method: "DELETE", Pattern: "/thing-types/{thingTypeName}", handle: deleteThingType},

		{Op: "CreateThingGroup", Method: "POST", Pattern: "/thing-groups/{thingGroupName}", handle: createThingGroup},
		{Op: "DescribeThingGroup", Method: "GET", Pattern: "/thing-groups/{thingGroupName}", handle: describeThingGroup},
		{Op: "UpdateThingGroup", Method: "PATCH", Pattern: "/thing-groups/{thingGroupName}", handle: updateThingGroup},
		{Op: "ListThingGroups", Method: "GET", Pattern: "/thing-groups", handle: listThingGroups},
		{Op: "DeleteThingGroup", Method: "DELETE", Pattern: "/thing-groups/{thingGroupName}", handle: deleteThingGroup},
		{Op: "AddThingToThingGroup", Method: "PUT", Pattern: "/thing-groups/addThingToThingGroup", handle: addThingToThingGroup},
		{Op: "RemoveThingFromThingGroup", Method: "PUT", Pattern: "/thing-groups/removeThingFromThingGroup", handle: removeThingFromThingGroup},
		{Op: "UpdateThingGroupsForThing", Method: "PUT", Pattern: "/thing-groups/updateThingGroupsForThing", handle: updateThingGroupsForThing},
		{Op: "ListThingsInThingGroup", Method: "GET", Pattern: "/thing-groups/{thingGroupName}/things", handle: listThingsInThingGroup},
		{Op: "ListThingGroupsForThing", Method: "GET", Pattern: "/things/{thingName}/thing-groups", handle: listThingGroupsForThing},

		{Op: "CreateBillingGroup", Method: "POST", Pattern: "/billing-groups/{billingGroupName}", handle: createBillingGroup},
		{Op: "DescribeBillingGroup", Method: "GET", Pattern: "/billing-groups/{billingGroupName}", handle: describeBillingGroup},
		{Op: "UpdateBillingGroup", Method: "PATCH", Pattern: "/billing-groups/{billingGroupName}", handle: updateBillingGroup},
		{Op: "ListBillingGroups", Method: "GET", Pattern: "/billing-groups", handle: listBillingGroups},
		{Op: "DeleteBillingGroup", Method: "DELETE", Pattern: "/billing-groups/{billingGroupName}", handle: deleteBillingGroup},
		{Op: "AddThingToBillingGroup", Method: "PUT", Pattern: "/billing-groups/addThingToBillingGroup", handle: addThingToBillingGroup},
		{Op: "RemoveThingFromBillingGroup", Method: "PUT", Pattern: "/billing-groups/removeThingFromBillingGroup", handle: removeThingFromBillingGroup},
		{Op: "ListThingsInBillingGroup", Method: "GET", Pattern: "/billing-groups/{billingGroupName}/things", handle: listThingsInBillingGroup},
		{Op: "CreateRoleAlias", Method: "POST", Pattern: "/role-aliases/{roleAlias}", handle: createRoleAlias},
		{Op: "DescribeRoleAlias", Method: "GET", Pattern: "/role-aliases/{roleAlias}", handle: describeRoleAlias},
		{Op: "UpdateRoleAlias", Method: "PUT", Pattern: "/role-aliases/{roleAlias}", handle: updateRoleAlias},
		{Op: "ListRoleAliases", Method: "GET", Pattern: "/role-aliases", handle: listRoleAliases},
		{Op: "DeleteRoleAlias", Method: "DELETE", Pattern: "/role-aliases/{roleAlias}", handle: deleteRoleAlias},

		{Op: "AttachThingPrincipal", Method: "PUT", Pattern: "/things/{thingName}/principals", handle: attachThingPrincipal},
		{Op: "DetachThingPrincipal", Method: "DELETE", Pattern: "/things/{thingName}/principals", handle: detachThingPrincipal},
		{Op: "ListThingPrincipals", Method: "GET", Pattern: "/things/{thingName}/principals", handle: listThingPrincipals},
		{Op: "ListThingPrincipalsV2", Method: "GET", Pattern: "/things/{thingName}/principals-v2", handle: listThingPrincipalsV2},
		{Op: "ListPrincipalThings", Method: "GET", Pattern: "/principals/things", handle: listPrincipalThings},
		{Op: "ListPrincipalThingsV2", Method: "GET", Pattern: "/principals/things-v2", handle: listPrincipalThingsV2},

		{Op: "CreateProvisioningTemplate", Method: "POST", Pattern: "/provisioning-templates", handle: createProvisioningTemplate},
		{Op: "DescribeProvisioningTemplate", Method: "GET", Pattern: "/provisioning-templates/{templateName}", handle: describeProvisioningTemplate},
		{Op: "ListProvisioningTemplates", Method: "GET", Pattern: "/provisioning-templates", handle: listProvisioningTemplates},
		{Op: "UpdateProvisioningTemplate", Method: "PATCH", Pattern: "/provisioning-templates/{templateName}", handle: updateProvisioningTemplate},
		{Op: "DeleteProvisioningTemplate", Method: "DELETE", Pattern: "/provisioning-templates/{templateName}", handle: deleteProvisioningTemplate},
		{Op: "CreateProvisioningTemplateVersion", Method: "POST", Pattern: "/provisioning-templates/{templateName}/versions", handle: createProvisioningTemplateVersion},
		{Op: "DescribeProvisioningTemplateVersion", Method: "GET", Pattern: "/provisioning-templates/{templateName}/versions/{versionId}", handle: describeProvisioningTemplateVersion},
		{Op: "ListProvisioningTemplateVersions", Method: "GET", Pattern: "/provisioning-templates/{templateName}/versions", handle: listProvisioningTemplateVersions},
		{Op: "DeleteProvisioningTemplateVersion", Method: "DELETE", Pattern: "/provisioning-templates/{templateName}/versions/{versionId}", handle: deleteProvisioningTemplateVersion},
		{Op: "CreateProvisioningClaim", Method: "POST", Pattern: "/provisioning-templates/{templateName}/provisioning-claim", handle: createProvisioningClaim},
		{Op: "RegisterThing", Method: "POST", Pattern: "/things", handle: registerThing},

		{Op: "CreateTopicRule", Method: "POST", Pattern: "/rules/{ruleName}", handle: ruleOp(createTopicRule)},
		{Op: "GetTopicRule", Method: "GET", Pattern: "/rules/{ruleName}", handle: ruleOp(getTopicRule)},
		{Op: "ListTopicRules", Method: "GET", Pattern: "/rules", handle: ruleOp(listTopicRules)},
		{Op: "ReplaceTopicRule", Method: "PATCH", Pattern: "/rules/{ruleName}", handle: ruleOp(replaceTopicRule)},
		{Op: "EnableTopicRule", Method: "POST", Pattern: "/rules/{ruleName}/enable", handle: ruleOp(enableTopicRule)},
		{Op: "DisableTopicRule", Method: "POST", Pattern: "/rules/{ruleName}/disable", handle: ruleOp(disableTopicRule)},
		{Op: "DeleteTopicRule", Method: "DELETE", Pattern: "/rules/{ruleName}", handle: ruleOp(deleteTopicRule)},

		{Op: "DescribeEndpoint", Method: "GET", Pattern: "/endpoint", handle: describeEndpoint},
		{Op: "GetIndexingConfiguration", Method: "GET", Pattern: "/indexing/config", handle: getIndexingConfiguration},
		{Op: "UpdateIndexingConfiguration", Method: "POST", Pattern: "/indexing/config", handle: updateIndexingConfiguration},
		{Op: "SearchIndex", Method: "POST", Pattern: "/indices/search", handle: searchIndex},
		{Op: "CreateDomainConfiguration", Method: "POST", Pattern: "/domainConfigurations/{domainConfigurationName}", handle: createDomainConfiguration},
		{Op: "DescribeDomainConfiguration", Method: "GET", Pattern: "/domainConfigurations/{domainConfigurationName}", handle: describeDomainConfiguration},
		{Op: "UpdateDomainConfiguration", Method: "PUT", Pattern: "/domainConfigurations/{domainConfigurationName}", handle: updateDomainConfiguration},
		{Op: "DeleteDomainConfiguration", Method: "DELETE", Pattern: "/domainConfigurations/{domainConfigurationName}", handle: deleteDomainConfiguration},
		{Op: "ListDomainConfigurations", Method: "GET", Pattern: "/domainConfigurations", handle: listDomainConfigurations},

		{Op: "ListProvisioningAttempts", Method: "GET", Pattern: "/iotcore/provisioning-attempts", handle: listProvisioningAttempts, Extension: true},
		{Op: "ListTopicRuleFailures", Method: "GET", Pattern: "/iotcore/rule-failures", handle: listTopicRuleFailures, Extension: true},

		{Op: "TagResource", Method: "POST", Pattern: "/tags", handle: tagResource},
		{Op: "UntagResource", Method: "POST", Pattern: "/untag", handle: untagResource},
		{Op: "ListTagsForResource", Method: "GET", Pattern: "/tags", handle: listTagsForResource},
	}
}

// New installs the routes in s, whose exported fields are set, and returns it.
func New(s *Server) *Server {
	s.router = newRouter(withUnserved(routes()))
	s.dataRouter = newRouter(dataRoutes())
	s.bodies = semaphore.NewWeighted(s.maxBodyBytesInFlight())
	s.refusals.Rate, s.refusals.Burst = refusalLogRate, refusalLogBurst
	return s
}
