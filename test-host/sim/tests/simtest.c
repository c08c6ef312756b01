#include <windows.h>
#include <computecore.h>
#include <stdio.h>
int wmain(void){
  HCS_OPERATION op=HcsCreateOperation(NULL,NULL);
  HCS_SYSTEM s; HRESULT hr=HcsCreateComputeSystem(L"smoke",L"{\"SchemaVersion\":{\"Major\":2,\"Minor\":1},\"Container\":{}}",op,NULL,&s);
  printf("create %lx\n",hr);
  PWSTR doc=NULL; hr=HcsWaitForOperationResult(op,5000,&doc); printf("wait %lx %ls\n",hr,doc?doc:L"(null)");
  return 0;
}
