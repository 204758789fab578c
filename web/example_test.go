package web_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/cmcsync/cmcsync/web"
)

// A Server wraps any Backend: here the tests' in-memory fake. Reads are
// open; a change needs the bearer token and a JSON body.
func Example() {
	srv, err := web.New(newFake(), web.Options{Token: "0123456789abcdef-example"})
	if err != nil {
		fmt.Println(err)
		return
	}

	put := func(token, body string) {
		req := httptest.NewRequest("PUT", "/api/selection", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		fmt.Print(rec.Code, " ", rec.Body.String())
	}
	put("", `{"types":["power","fan"]}`)
	put("0123456789abcdef-example", `{"types":["power","coffee"]}`)
	put("0123456789abcdef-example", `{"types":["power","fan"]}`)

	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, httptest.NewRequest("GET", "/api/selection", nil))
	fmt.Println(rec.Code == http.StatusOK, strings.Join(strings.Fields(rec.Body.String()), ""))
	// Output:
	// 401 {
	//   "error": "missing or wrong API token: send Authorization: Bearer TOKEN (the token is in the state folder's api-token file)"
	// }
	// 400 {
	//   "error": "types: unknown information type \"coffee\" (known: power, fan, node, event-log, fault-log, asset)",
	//   "field": "types"
	// }
	// 200 {
	//   "types": [
	//     "power",
	//     "fan"
	//   ]
	// }
	// true {"types":["power","fan"]}
}
