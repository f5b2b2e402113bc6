package awsapi

import (
	"context"
	"errors"
	"net/http/httptest"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awsiot "github.com/aws/aws-sdk-go-v2/service/iot"
	"github.com/aws/smithy-go"

	"github.com/iotcore/iotcore/internal/awsapi/sigv4"
	"github.com/iotcore/iotcore/internal/iot"
	"github.com/iotcore/iotcore/internal/registry"
	"github.com/iotcore/iotcore/internal/sqlite"
)

// TestEveryServedOperationThroughTheSDK calls every operation iotcore
// serves with the AWS SDK for Go v2, its required members filled with
// placeholder values, against a real registry: each call must reach its
// operation (no UnknownOperationException, no 405), be answered with an
// error AWS could give or a response the SDK decodes, and never with a
// server error, whatever the placeholders.
func TestEveryServedOperationThroughTheSDK(t *testing.T) {
	m := loadModel(t)
	db, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "iotcore.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	api := New(&Server{
		Registry: &registry.Service{Store: db, Account: iot.Account{ID: "123456789012", Region: "us-east-1"}},
		Verifier: &sigv4.Verifier{Service: "iot", Secret: func(id string) (string, bool) { return "secret", id == "AKIDTEST" }},
		Endpoint: "iot.test",
	})
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)
	client := awsiot.New(awsiot.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), Retryer: aws.NopRetryer{},
		Credentials: credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", ""),
	})
	cv := reflect.ValueOf(client)
	called := 0
	for _, rt := range routes() {
		if rt.Extension {
			continue
		}
		t.Run(rt.Op, func(t *testing.T) {
			method := cv.MethodByName(rt.Op)
			if !method.IsValid() {
				t.Fatalf("the SDK's IoT client has no %s", rt.Op)
			}
			in := reflect.New(method.Type().In(1).Elem())
			op := m.Operations[rt.Op]
			fillRequired(t, m, in.Elem(), op.Input.Shape)
			out := method.Call([]reflect.Value{reflect.ValueOf(context.Background()), in})
			called++
			err, _ := out[1].Interface().(error)
			if err == nil {
				return
			}
			var ae smithy.APIError
			if !errors.As(err, &ae) {
				t.Fatalf("%s: the SDK could not read the answer: %v", rt.Op, err)
			}
			switch ae.ErrorCode() {
			case "UnknownOperationException", "MethodNotAllowedException":
				t.Fatalf("%s did not reach its operation: %v", rt.Op, err)
			case "InternalFailureException", "InternalServerException":
				t.Fatalf("%s answered placeholders with a server error: %v", rt.Op, err)
			}
		})
	}
	if called < 80 {
		t.Fatalf("called %d operations", called)
	}
}

// fillRequired fills the required members of v, a structure of the model's
// shape, and theirs in turn.
func fillRequired(t *testing.T, m iotModel, v reflect.Value, shape string) {
	t.Helper()
	for _, member := range m.Shapes[shape].Required {
		f := v.FieldByName(strings.ToUpper(member[:1]) + member[1:])
		if !f.IsValid() {
			t.Fatalf("%s: no field for the required member %s", shape, member)
		}
		placeholder(f, member)
		memberShape := m.Shapes[m.Shapes[shape].Members[member].Shape]
		switch {
		case f.Kind() == reflect.Pointer && f.Elem().Kind() == reflect.Struct:
			fillRequired(t, m, f.Elem(), m.Shapes[shape].Members[member].Shape)
		case f.Kind() == reflect.Slice && f.Index(0).Kind() == reflect.Struct:
			fillRequired(t, m, f.Index(0), memberShape.Member.Shape)
		}
	}
}

// placeholder fills a required member with a value of its type; ARNs and
// ids look like theirs, so that many calls get past validation.
func placeholder(f reflect.Value, member string) {
	s := "placeholder-1"
	switch {
	case strings.HasSuffix(member, "Arn") || member == "resourceArn" || member == "target":
		s = "arn:aws:iot:us-east-1:123456789012:thing/placeholder-1"
	case strings.HasSuffix(member, "Id") && strings.Contains(strings.ToLower(member), "certificate"):
		s = strings.Repeat("ab", 32)
	case member == "policyDocument":
		s = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:Connect","Resource":"*"}]}`
	}
	switch f.Kind() {
	case reflect.Pointer:
		v := reflect.New(f.Type().Elem())
		switch v.Elem().Kind() {
		case reflect.String:
			v.Elem().SetString(s)
		case reflect.Int32, reflect.Int64:
			v.Elem().SetInt(1)
		case reflect.Bool:
			v.Elem().SetBool(true)
		}
		f.Set(v)
	case reflect.String:
		f.SetString(s)
	case reflect.Slice:
		v := reflect.MakeSlice(f.Type(), 1, 1)
		if e := v.Index(0); e.Kind() == reflect.String {
			e.SetString(s)
		} else if e.Kind() == reflect.Uint8 {
			e.SetUint('x')
		}
		f.Set(v)
	case reflect.Map:
		f.Set(reflect.MakeMap(f.Type()))
	}
}
