from crmfiles.cli.main import main

raise SystemExit(main())
