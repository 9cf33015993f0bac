package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"

	"shequ/internal/access"
	"shequ/internal/auth"
	"shequ/internal/store"
)

const userUsage = `usage:
  shequ user add --username NAME --name DISPLAY --role ROLE --node CODE [--password PW]
  shequ user set-password USERNAME [--password PW]   (reads a line from stdin when --password is "-")
  shequ user list [--q TEXT]
  shequ user disable USERNAME
A password that is not given is generated and printed once.`

func userCmd(ctx context.Context, e *Env, args []string) error {
	if len(args) == 0 {
		return errors.New(userUsage)
	}
	sub, args := args[0], args[1:]
	fs := flags(e, "user "+sub)
	username := fs.String("username", "", "login name")
	display := fs.String("name", "", "display name")
	role := fs.String("role", "", "role: "+rolesList())
	node := fs.String("node", "", "division or grid code of the role's scope")
	password := fs.String("password", "", "password (generated when empty; - reads stdin)")
	query := fs.String("q", "", "filter for list")
	// Positional USERNAME may come before the flags.
	var pos string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		pos, args = args[0], args[1:]
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if pos == "" && fs.NArg() > 0 {
		pos = fs.Arg(0)
	}
	a, err := open(ctx, e, fs)
	if err != nil {
		return err
	}
	defer a.Close()
	pw := *password
	if pw == "-" {
		line, err := bufio.NewReader(e.Stdin).ReadString('\n')
		if err != nil && line == "" {
			return errors.New("no password on standard input")
		}
		pw = strings.TrimRight(line, "\r\n")
	}
	generated := pw == ""
	if generated {
		pw = auth.RandomPassword()
	}
	switch sub {
	case "add":
		n, err := a.Store.OrgNodeByCode(ctx, *node)
		if err != nil {
			return fmt.Errorf("--node %q: no such division or grid code", *node)
		}
		u, err := a.Auth.CreateUser(ctx, nil, auth.NewUser{Username: *username, DisplayName: *display,
			Kind: store.KindStaff, Password: pw, Role: access.Role(*role), NodeID: n.ID}, "")
		if err != nil {
			return explain(err)
		}
		fmt.Fprintf(e.Stdout, "created %s (%s) as %s of %s\n", u.Username, u.DisplayName, *role, n.Name)
	case "set-password":
		u, err := a.Store.UserByUsername(ctx, pos)
		if err != nil {
			return fmt.Errorf("no account %q", pos)
		}
		if err := a.Auth.ChangePassword(ctx, nil, u.ID, pw, ""); err != nil {
			return explain(err)
		}
		fmt.Fprintf(e.Stdout, "password of %s changed; their sessions have ended\n", u.Username)
	case "disable":
		u, err := a.Store.UserByUsername(ctx, pos)
		if err != nil {
			return fmt.Errorf("no account %q", pos)
		}
		if err := a.Auth.SetDisabled(ctx, nil, u.ID, true, ""); err != nil {
			return explain(err)
		}
		fmt.Fprintf(e.Stdout, "%s disabled\n", u.Username)
		return nil
	case "list":
		us, total, err := a.Store.Users(ctx, store.UserFilter{Query: *query, Limit: 1000})
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(e.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "USERNAME\tNAME\tKIND\tSTATUS\tROLES")
		for _, u := range us {
			as, err := a.Store.Assignments(ctx, u.ID)
			if err != nil {
				return err
			}
			var roles []string
			for _, x := range as {
				roles = append(roles, x.Role+"@"+x.NodeCode)
			}
			status := "active"
			if u.Disabled {
				status = "disabled"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", u.Username, u.DisplayName, u.Kind, status, strings.Join(roles, " "))
		}
		tw.Flush()
		fmt.Fprintf(e.Stdout, "%d accounts\n", total)
		return nil
	default:
		return errors.New(userUsage)
	}
	if generated {
		fmt.Fprintf(e.Stdout, "password: %s\n", pw)
	}
	return nil
}

func rolesList() string {
	var rs []string
	for _, r := range access.Roles {
		rs = append(rs, string(r))
	}
	return strings.Join(rs, ", ")
}
