package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/iotcore/iotcore/internal/iot"
	"github.com/iotcore/iotcore/internal/postgres"
	"github.com/iotcore/iotcore/internal/registry"
	"github.com/iotcore/iotcore/internal/server"
	"github.com/iotcore/iotcore/internal/sqlite"
)

func newStoreCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "store",
		Short: "The registry's database: copy an SQLite registry into PostgreSQL",
	}
	cmd.AddCommand(newStoreCopyCommand())
	return cmd
}

func newStoreCopyCommand() *cobra.Command {
	var from, to, account, region string
	cmd := &cobra.Command{
		Use:   "copy --from DATA_DIR --to postgres://...",
		Short: "Copy a data directory's SQLite registry into an empty PostgreSQL database",
		Long: `Copy the whole registry of a data directory (its iotcore.db) into an empty
PostgreSQL database, for a gateway that moves from SQLite to PostgreSQL
(docs/postgresql.md): things, types, groups, certificates, CAs, policies and
their versions, attachments, tags, provisioning templates, topic rules,
provisioning attempts and the registration code, as they are. The copy is one
transaction, read back before it commits: it is whole or not at all. Stop the
server first: the command takes the data directory's lock. --account-id and
--region must be the server's (tags are kept by ARN).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if from == "" || to == "" {
				return fmt.Errorf("pass --from DATA_DIR and --to postgres://user:password@host:port/database")
			}
			ctx := cmd.Context()
			release, err := server.LockDataDir(from)
			if err != nil {
				return err
			}
			defer release()
			path := filepath.Join(from, server.DatabaseFile)
			if _, err := os.Stat(path); err != nil {
				return fmt.Errorf("no registry to copy: %w", err)
			}
			src, err := sqlite.Open(ctx, path)
			if err != nil {
				return err
			}
			defer src.Close()
			dst, err := postgres.Open(ctx, to, postgres.Options{})
			if err != nil {
				return err
			}
			defer dst.Close()
			n, err := registry.Copy(ctx, src, dst, iot.Account{ID: account, Region: region})
			if err != nil {
				return err
			}
			indexing := "the default indexing configuration"
			if n.IndexingConfiguration {
				indexing = "the indexing configuration"
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "iotcore: copied %d things, %d thing types, %d thing groups, %d billing groups, %d certificates, %d CA certificates, "+
				"%d policies (%d versions), %d provisioning templates, %d topic rules, %d provisioning attempts, %d shadows, %d role aliases, "+
				"%d domain configurations, %s and %d tags into %s\n",
				n.Things, n.ThingTypes, n.ThingGroups, n.BillingGroups, n.Certificates, n.CACertificates, n.Policies, n.PolicyVersions,
				n.ProvisioningTemplates, n.TopicRules, n.ProvisioningAttempts, n.Shadows, n.RoleAliases, n.DomainConfigurations, indexing,
				n.Tags, server.RedactDatabaseURL(to))
			return err
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&from, "from", "", "the data directory whose registry (iotcore.db) to copy")
	fs.StringVar(&to, "to", "", "the PostgreSQL database to copy into, empty: postgres://user:password@host:port/database")
	fs.StringVar(&account, "account-id", server.DefaultAccountID, "the server's --account-id")
	fs.StringVar(&region, "region", server.DefaultRegion, "the server's --region")
	return cmd
}
